using Microsoft.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The <see cref="IAutoGlmBuilder"/> handed out by the registration methods.</summary>
internal sealed class AutoGlmBuilder : IAutoGlmBuilder
{
    public AutoGlmBuilder(IServiceCollection services, string? key, ChatClientBuilder chatClientBuilder)
    {
        Services = services;
        Key = key;
        ChatClientBuilder = chatClientBuilder;
    }

    public IServiceCollection Services { get; }

    public string? Key { get; }

    public ChatClientBuilder ChatClientBuilder { get; }
}
