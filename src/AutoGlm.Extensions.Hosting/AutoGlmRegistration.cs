using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting;

/// <summary>Records that <c>AddAutoGlm</c> (null key) or <c>AddKeyedAutoGlm</c> was called, so the hosted service finds every host.</summary>
/// <param name="Key">The registration's key, or null.</param>
internal sealed record AutoGlmRegistration(string? Key)
{
    /// <summary>The options name of the registration: its key, or the default name.</summary>
    public string OptionsName => Key ?? Microsoft.Extensions.Options.Options.DefaultName;

    public GlmModelHost ResolveHost(IServiceProvider services)
        => Key is null ? services.GetRequiredService<GlmModelHost>() : services.GetRequiredKeyedService<GlmModelHost>(Key);
}
