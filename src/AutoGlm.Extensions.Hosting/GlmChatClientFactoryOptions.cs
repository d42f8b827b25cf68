using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>How the chat client over each loaded model is made, per registration (named like its <see cref="AutoGlmOptions"/>).</summary>
internal sealed class GlmChatClientFactoryOptions
{
    /// <summary>Makes the chat client over a freshly loaded model; null means the default.</summary>
    public Func<IServiceProvider, GlmModel, IChatClient>? Create { get; set; }
}
