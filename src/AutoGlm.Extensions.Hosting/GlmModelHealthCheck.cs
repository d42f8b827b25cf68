using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// Reports a model host's health: Unhealthy (or the registration's failure status) while the model loads, after a failed load
/// and while stopping; Degraded when the request queue reaches <see cref="AutoGlmOptions.DegradedQueueFraction"/> of its capacity;
/// Healthy otherwise, including when the model is not loaded because it loads lazily or was unloaded after its keep-alive.
/// </summary>
/// <remarks>Thread-safe; reads a snapshot of the host.</remarks>
internal sealed class GlmModelHealthCheck : IHealthCheck
{
    private readonly GlmModelHost _host;

    public GlmModelHealthCheck(GlmModelHost host)
    {
        _host = host;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        HealthStatus failureStatus = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        return Task.FromResult(Evaluate(_host.GetStatus(), _host.Options.DegradedQueueFraction, failureStatus));
    }

    internal static HealthCheckResult Evaluate(GlmModelHostStatus status, double degradedQueueFraction, HealthStatus failureStatus)
    {
        var data = new Dictionary<string, object>
        {
            ["state"] = status.State.ToString(),
            ["model_path"] = status.ModelPath,
            ["requests_in_flight"] = status.RequestsInFlight,
            ["queued_requests"] = status.QueuedRequests,
            ["queue_capacity"] = status.QueueCapacity,
            ["active_requests"] = status.ActiveRequests,
            ["kv_tokens_in_use"] = status.KvTokensInUse,
            ["kv_budget_tokens"] = status.KvBudgetTokens,
        };
        if (status.CandidateModelPath is not null)
        {
            data["candidate_model_path"] = status.CandidateModelPath;
            data["candidate_traffic_share"] = status.CandidateTrafficShare;
        }

        switch (status.State)
        {
            case GlmModelHostState.NotLoaded:
                return HealthCheckResult.Healthy($"Model '{status.ModelPath}' is not loaded; it loads on the next request.", data);
            case GlmModelHostState.Loading:
                return new HealthCheckResult(failureStatus, $"Model '{status.ModelPath}' is loading.", data: data);
            case GlmModelHostState.Failed:
                return new HealthCheckResult(failureStatus, $"Loading model '{status.ModelPath}' failed: {status.LoadError?.Message}", status.LoadError, data);
            case GlmModelHostState.Stopping:
            case GlmModelHostState.Stopped:
                return new HealthCheckResult(failureStatus, $"The model host is {status.State.ToString().ToLowerInvariant()} and accepts no new requests.", data: data);
        }

        if (status.QueueCapacity > 0 && status.QueuedRequests >= degradedQueueFraction * status.QueueCapacity)
        {
            return HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture, $"The request queue of model '{status.ModelPath}' is nearly full: {status.QueuedRequests} of {status.QueueCapacity} places taken."),
                data: data);
        }

        return HealthCheckResult.Healthy(
            string.Create(CultureInfo.InvariantCulture, $"Model '{status.ModelPath}' is serving: {status.ActiveRequests} running, {status.QueuedRequests} of {status.QueueCapacity} queued."),
            data);
    }
}
