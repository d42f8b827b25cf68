namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddAutoGlm</c> and <c>AddKeyedAutoGlm</c> to add more to that model's registration,
/// e.g. <c>.AddHealthCheck()</c> or <c>.UseChatClientFactory(...)</c>.
/// </summary>
/// <remarks>Used while the service collection is being built, on one thread; not thread-safe.</remarks>
public interface IAutoGlmBuilder
{
    /// <summary>The service collection the model is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registration's key for <c>AddKeyedAutoGlm</c>, or null for <c>AddAutoGlm</c>.</summary>
    string? Key { get; }
}
