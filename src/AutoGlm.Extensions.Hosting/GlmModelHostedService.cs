using Microsoft.Extensions.Hosting;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// Starts loading every registered model whose <see cref="AutoGlmOptions.LoadOnStartup"/> is set when the application starts
/// (without holding start-up back), and drains and stops every model host when it stops.
/// </summary>
/// <remarks>Thread-safe; the generic host calls it once to start and once to stop.</remarks>
internal sealed class GlmModelHostedService : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly AutoGlmRegistration[] _registrations;

    public GlmModelHostedService(IServiceProvider services, IEnumerable<AutoGlmRegistration> registrations)
    {
        _services = services;
        _registrations = [.. registrations.Distinct()];
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (AutoGlmRegistration registration in _registrations)
        {
            GlmModelHost host = registration.ResolveHost(_services);
            if (host.Options.LoadOnStartup)
            {
                // The host logs a failed load and reports it through its health check; the next request tries again.
                _ = host.StartLoadingAsync().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
        => Task.WhenAll(_registrations.Select(r => r.ResolveHost(_services).StopAsync(cancellationToken)));
}
