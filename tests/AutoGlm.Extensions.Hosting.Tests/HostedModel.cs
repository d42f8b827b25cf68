using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>A service provider with one <c>AddAutoGlm</c> registration over a real model, a fake chat client factory, a counting loader and a manual clock.</summary>
internal sealed class HostedModel : IAsyncDisposable
{
    private HostedModel(ServiceProvider provider)
    {
        Provider = provider;
    }

    public ServiceProvider Provider { get; }

    public GlmModelHost Host => Provider.GetRequiredService<GlmModelHost>();

    public IChatClient Client => Provider.GetRequiredService<IChatClient>();

    public FakeChatClientFactory Factory { get; } = new();

    public CountingModelLoader Loader { get; } = new();

    public ManualTimeProvider Time { get; } = new();

    public IHostedService HostedService => Provider.GetServices<IHostedService>().OfType<GlmModelHostedService>().Single();

    public static HostedModel Create(string modelPath, Action<AutoGlmOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        HostedModel? created = null;
        collection.AddAutoGlm(o =>
        {
            o.ModelPath = modelPath;
            o.LoadOnStartup = false;
            configure?.Invoke(o);
        }).UseChatClientFactory((_, model) => created!.Factory.Create(model));
        collection.AddSingleton<IGlmModelLoader>(_ => created!.Loader);
        collection.AddSingleton<TimeProvider>(_ => created!.Time);
        collection.AddMetrics();
        services?.Invoke(collection);
        created = new HostedModel(collection.BuildServiceProvider());
        return created;
    }

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
