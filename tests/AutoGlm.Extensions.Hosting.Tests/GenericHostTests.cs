using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>The one-line set-up in a real generic host: configuration section, start-up load, requests, health, shutdown.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class GenericHostTests
{
    private readonly TinyModelFixture _fixture;

    public GenericHostTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Host_AddAutoGlmFromConfiguration_LoadsAtStartServesAndStopsCleanly()
    {
        var logs = new RecordingLoggerProvider();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AutoGlm:ModelPath"] = _fixture.ModelPath,
            ["AutoGlm:ModelId"] = "tiny",
            ["AutoGlm:MaxBatchSize"] = "2",
            ["AutoGlm:DefaultMaxOutputTokens"] = "3",
        });
        builder.Logging.AddProvider(logs);
        builder.Services.AddAutoGlm(builder.Configuration.GetSection("AutoGlm")).AddHealthCheck();
        using IHost host = builder.Build();

        await host.StartAsync();
        GlmModelHost modelHost = host.Services.GetRequiredService<GlmModelHost>();
        await modelHost.StartLoadingAsync();
        ChatResponse response = await host.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hello", new ChatOptions { Temperature = 0f });
        HealthReport health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await host.StopAsync();

        Assert.InRange(response.Usage!.OutputTokenCount!.Value, 1, 3);
        Assert.Equal("tiny", response.ModelId);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(GlmModelHostState.Stopped, modelHost.State);
        Assert.Equal(2, modelHost.Options.MaxBatchSize);
        var entries = logs.Entries;
        Assert.Contains(entries, e => e.EventId == 1 && e.Message == $"Loading model '{_fixture.ModelPath}' on CPU.");
        Assert.Contains(entries, e => e.EventId == 2 && e.Message.StartsWith($"Loaded model '{_fixture.ModelPath}' in ", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.EventId == 12 && e.Message == "Stopped.");
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Warning);
    }
}
