using Microsoft.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddAutoGlm</c> and <c>AddKeyedAutoGlm</c> to add more to that model's registration:
/// <c>.AddHealthCheck()</c>, <c>.UseChatClientFactory(...)</c>, and Microsoft.Extensions.AI middleware through
/// <see cref="ChatClientBuilder"/> (<c>.ChatClientBuilder.UseFunctionInvocation().UseOpenTelemetry()</c>).
/// </summary>
/// <remarks>Used while the service collection is being built, on one thread; not thread-safe.</remarks>
public interface IAutoGlmBuilder
{
    /// <summary>The service collection the model is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registration's key for <c>AddKeyedAutoGlm</c>, or null for <c>AddAutoGlm</c>.</summary>
    string? Key { get; }

    /// <summary>
    /// The pipeline of the <see cref="IChatClient"/> registered for this model (keyed by <see cref="Key"/> when set), as
    /// <c>services.AddChatClient(...)</c> returns it: add Microsoft.Extensions.AI middleware with its <c>Use…</c> methods
    /// (<c>UseFunctionInvocation</c>, <c>UseOpenTelemetry</c>, <c>UseLogging</c>, <c>UseDistributedCache</c>, or your own <c>Use(...)</c>);
    /// the first added is the outermost. The innermost client is AutoGlm's: it takes a lease on the hosted model for each request
    /// (loading it when needed, following a rollout's traffic split), so middleware keeps working across hot swaps and
    /// keep-alive unloads. The pipeline is built once, when the <see cref="IChatClient"/> is first resolved.
    /// </summary>
    ChatClientBuilder ChatClientBuilder { get; }
}
