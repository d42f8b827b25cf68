using AutoGlm.Chat;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// The one place the sample registers its model. Stand-in until <c>services.AddAutoGlm(section).AddHealthCheck()</c>
/// from AutoGlm.Extensions.Hosting is available: it reads the same <c>AutoGlm</c> section, registers the same services
/// (<see cref="GlmModel"/>, <see cref="IChatClient"/>, a health check named <c>autoglm</c>), and loads the model on first use.
/// </summary>
/// <remarks>Used while the service collection is built; not thread-safe.</remarks>
public static class ChatModelServices
{
    public static IServiceCollection AddChatModel(this IServiceCollection services, IConfigurationSection section)
    {
        services.AddSingleton(_ =>
        {
            string path = section["ModelPath"] is { Length: > 0 } p
                ? p
                : throw new InvalidOperationException("AutoGlm:ModelPath is not set; set it in appsettings.json, or pass --AutoGlm:ModelPath=/path/to/model.");
            return GlmModel.Load(path, new GlmModelOptions
            {
                MaxBatchSize = section.GetValue("MaxBatchSize", 8),
                QueueCapacity = section.GetValue("QueueCapacity", 64),
                MaxSequenceLength = section.GetValue<int?>("MaxSequenceLength"),
                WarmUp = section.GetValue("WarmUp", true),
            });
        });
        services.AddSingleton<IChatClient>(sp => new AutoGlmChatClient(sp.GetRequiredService<GlmModel>(), new AutoGlmChatClientOptions { ModelId = sp.GetRequiredService<ServedModel>().Id }));
        services.AddHealthChecks().AddCheck("autoglm", () => HealthCheckResult.Healthy("Model loads on first use."));
        return services;
    }
}
