using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AutoGlm.Extensions.Hosting.Tests;

public sealed class GlmModelHealthCheckTests : IDisposable
{
    private const string Path = "/models/glm";
    private readonly string _modelFolder = ModelFolders.CreateEmpty();

    public void Dispose() => Directory.Delete(_modelFolder, recursive: true);

    public static TheoryData<GlmModelHostState, int, HealthStatus, string> States => new()
    {
        { GlmModelHostState.NotLoaded, 0, HealthStatus.Healthy, "Model '/models/glm' is not loaded; it loads on the next request." },
        { GlmModelHostState.Loading, 0, HealthStatus.Unhealthy, "Model '/models/glm' is loading." },
        { GlmModelHostState.Stopping, 0, HealthStatus.Unhealthy, "The model host is stopping and accepts no new requests." },
        { GlmModelHostState.Stopped, 0, HealthStatus.Unhealthy, "The model host is stopped and accepts no new requests." },
        { GlmModelHostState.Ready, 0, HealthStatus.Healthy, "Model '/models/glm' is serving: 3 running, 0 of 64 queued." },
        { GlmModelHostState.Ready, 51, HealthStatus.Healthy, "Model '/models/glm' is serving: 3 running, 51 of 64 queued." },
        { GlmModelHostState.Ready, 52, HealthStatus.Degraded, "The request queue of model '/models/glm' is nearly full: 52 of 64 places taken." },
        { GlmModelHostState.Ready, 64, HealthStatus.Degraded, "The request queue of model '/models/glm' is nearly full: 64 of 64 places taken." },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void Evaluate_State_ReportsStatusAndDescription(GlmModelHostState state, int queued, HealthStatus expected, string description)
    {
        HealthCheckResult result = GlmModelHealthCheck.Evaluate(Status(state, queued), 0.8, HealthStatus.Unhealthy);

        Assert.Equal(expected, result.Status);
        Assert.Equal(description, result.Description);
        Assert.Equal(state.ToString(), result.Data["state"]);
        Assert.Equal(queued, result.Data["queued_requests"]);
        Assert.Equal(64, result.Data["queue_capacity"]);
        Assert.Equal(3, result.Data["active_requests"]);
        Assert.Equal(100, result.Data["kv_tokens_in_use"]);
        Assert.Equal(4096, result.Data["kv_budget_tokens"]);
    }

    [Fact]
    public void Evaluate_Failed_CarriesTheLoadErrorAndTheRegistrationsFailureStatus()
    {
        var error = new ModelLoadException("config.json is missing");

        HealthCheckResult result = GlmModelHealthCheck.Evaluate(Status(GlmModelHostState.Failed, 0) with { LoadError = error }, 0.8, HealthStatus.Degraded);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Equal("Loading model '/models/glm' failed: config.json is missing", result.Description);
        Assert.Same(error, result.Exception);
    }

    [Fact]
    public void Evaluate_LowerDegradedFraction_DegradesEarlier()
    {
        Assert.Equal(HealthStatus.Healthy, GlmModelHealthCheck.Evaluate(Status(GlmModelHostState.Ready, 15), 0.25, HealthStatus.Unhealthy).Status);
        Assert.Equal(HealthStatus.Degraded, GlmModelHealthCheck.Evaluate(Status(GlmModelHostState.Ready, 16), 0.25, HealthStatus.Unhealthy).Status);
    }

    [Fact]
    public void Evaluate_Rollout_ReportsTheCandidate()
    {
        HealthCheckResult result = GlmModelHealthCheck.Evaluate(Status(GlmModelHostState.Ready, 0) with { CandidateModelPath = "/models/glm-v2", CandidateTrafficShare = 0.1 }, 0.8, HealthStatus.Unhealthy);

        Assert.Equal("/models/glm-v2", result.Data["candidate_model_path"]);
        Assert.Equal(0.1, result.Data["candidate_traffic_share"]);
    }

    [Fact]
    public async Task AddHealthCheck_PlainAndKeyedModels_RegistersOneNamedCheckEach()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAutoGlm(o => { o.ModelPath = _modelFolder; o.LoadOnStartup = false; }).AddHealthCheck(tags: ["ready"]);
        services.AddKeyedAutoGlm("edge", o => { o.ModelPath = _modelFolder; o.LoadOnStartup = false; }).AddHealthCheck(failureStatus: HealthStatus.Degraded);
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthCheckServiceOptions options = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value;
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(["autoglm", "autoglm-edge"], options.Registrations.Select(r => r.Name).Order());
        Assert.Equal(["ready"], options.Registrations.Single(r => r.Name == "autoglm").Tags);
        Assert.Equal(HealthStatus.Degraded, options.Registrations.Single(r => r.Name == "autoglm-edge").FailureStatus);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal($"Model '{_modelFolder}' is not loaded; it loads on the next request.", report.Entries["autoglm"].Description);
        Assert.Equal($"Model '{_modelFolder}' is not loaded; it loads on the next request.", report.Entries["autoglm-edge"].Description);
    }

    [Fact]
    public async Task CheckHealthAsync_ModelThatCannotLoad_IsUnhealthyAfterTheFailedLoad()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAutoGlm(o => { o.ModelPath = _modelFolder; o.LoadOnStartup = false; }).AddHealthCheck();
        await using ServiceProvider provider = services.BuildServiceProvider();
        GlmModelHost host = provider.GetRequiredService<GlmModelHost>();

        Exception loadError = await Assert.ThrowsAnyAsync<AutoGlmException>(() => host.StartLoadingAsync());
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = report.Entries["autoglm"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Same(loadError, entry.Exception);
        Assert.Equal($"Loading model '{_modelFolder}' failed: {loadError.Message}", entry.Description);
    }

    private static GlmModelHostStatus Status(GlmModelHostState state, int queued) => new()
    {
        State = state,
        ModelPath = Path,
        QueuedRequests = queued,
        QueueCapacity = 64,
        ActiveRequests = 3,
        KvTokensInUse = 100,
        KvBudgetTokens = 4096,
        RequestsInFlight = 3 + queued,
    };
}
