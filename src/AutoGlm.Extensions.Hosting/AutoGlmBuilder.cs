namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The <see cref="IAutoGlmBuilder"/> handed out by the registration methods.</summary>
internal sealed class AutoGlmBuilder : IAutoGlmBuilder
{
    public AutoGlmBuilder(IServiceCollection services, string? key)
    {
        Services = services;
        Key = key;
    }

    public IServiceCollection Services { get; }

    public string? Key { get; }
}
