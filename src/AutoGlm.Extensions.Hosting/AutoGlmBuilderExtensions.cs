using AutoGlm;
using AutoGlm.Extensions.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds to a model's registration: a health check, or a custom chat client over each loaded model.</summary>
/// <remarks>Used while the service collection is being built; not thread-safe.</remarks>
public static class AutoGlmBuilderExtensions
{
    /// <summary>
    /// Adds a health check for the model: Unhealthy (or <paramref name="failureStatus"/>) while it loads, after a failed load and
    /// while stopping; Degraded when its request queue is at least <see cref="AutoGlmOptions.DegradedQueueFraction"/> full;
    /// Healthy otherwise (also when it is not loaded because loading is lazy or it was unloaded after its keep-alive).
    /// Health checks are not added automatically; map them with <c>app.MapHealthChecks("/health")</c>.
    /// </summary>
    /// <param name="builder">The model's registration.</param>
    /// <param name="name">The check's name; <c>autoglm</c>, or <c>autoglm-{key}</c> for a keyed model, by default.</param>
    /// <param name="failureStatus">The status reported instead of Unhealthy; null for Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by, e.g. <c>ready</c>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static IAutoGlmBuilder AddHealthCheck(this IAutoGlmBuilder builder, string? name = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string? key = builder.Key;
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            name ?? (builder.Key is null ? "autoglm" : $"autoglm-{builder.Key}"),
            sp => new GlmModelHealthCheck(AutoGlmRegistration.ResolveHost(sp, key)),
            failureStatus,
            tags));
        return builder;
    }

    /// <summary>
    /// Sets how the chat client over each loaded model version is made, instead of the default
    /// <see cref="AutoGlm.Chat.AutoGlmChatClient"/> with <see cref="AutoGlmOptions.ModelId"/>, <see cref="AutoGlmOptions.DefaultMaxOutputTokens"/>
    /// and <see cref="AutoGlmOptions.ParseReasoning"/> (for example to wrap it in middleware);
    /// the registered <see cref="IChatClient"/> delegates each request to the client of the model version the request is routed to.
    /// The host disposes each client with its model.
    /// </summary>
    /// <param name="builder">The model's registration.</param>
    /// <param name="factory">Makes the chat client over a freshly loaded model; called once per load.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IAutoGlmBuilder UseChatClientFactory(this IAutoGlmBuilder builder, Func<IServiceProvider, GlmModel, IChatClient> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        AutoGlmServiceCollectionExtensions.SetChatClientFactory(builder, factory);
        return builder;
    }
}
