using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// On shutdown (SIGTERM), before anything stops: reports Unhealthy and waits <see cref="OpenAiApiOptions.ShutdownDelay"/>
/// while requests are still served, so load balancers take the instance out before it stops accepting; then the server
/// stops and the model host drains the requests in flight.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class ShutdownGate(IOptions<OpenAiApiOptions> options) : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _stopping;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_stopping
            ? new HealthCheckResult(context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy, "Shutting down: finishing requests in flight, send new ones elsewhere.")
            : HealthCheckResult.Healthy());

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        TimeSpan delay = options.Value.ShutdownDelay;
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
