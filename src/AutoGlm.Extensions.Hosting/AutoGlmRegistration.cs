using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// One <c>AddAutoGlm</c> (null key) or <c>AddKeyedAutoGlm</c> registration, added once per key so the hosted service finds every
/// host; it holds the registration's <see cref="ChatClientBuilder"/>, so repeated calls for one key add to one pipeline.
/// </summary>
/// <remarks>Built while the service collection is built (one thread); read-only afterwards.</remarks>
internal sealed class AutoGlmRegistration
{
    public AutoGlmRegistration(string? key)
    {
        Key = key;
        // The routing client is the innermost client; the telemetry client just above it measures each request once
        // (and steps aside for a chat span that UseOpenTelemetry() already started); user middleware goes above both.
        ChatClientBuilder = new ChatClientBuilder(sp => new GlmModelHostTelemetryChatClient(new GlmModelHostChatClient(ResolveHost(sp, key)), sp));
    }

    public string? Key { get; }

    public ChatClientBuilder ChatClientBuilder { get; }

    /// <summary>The options name of the registration: its key, or the default name.</summary>
    public string OptionsName => OptionsNameOf(Key);

    public static string OptionsNameOf(string? key) => key ?? Microsoft.Extensions.Options.Options.DefaultName;

    public GlmModelHost ResolveHost(IServiceProvider services) => ResolveHost(services, Key);

    public static GlmModelHost ResolveHost(IServiceProvider services, string? key)
        => key is null ? services.GetRequiredService<GlmModelHost>() : services.GetRequiredKeyedService<GlmModelHost>(key);
}
