using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AutoGlm.Extensions.Hosting.Tests;

public sealed class AutoGlmServiceCollectionExtensionsTests : IDisposable
{
    private readonly string _modelFolder = ModelFolders.CreateEmpty();
    private readonly string _otherFolder = ModelFolders.CreateEmpty();

    public void Dispose()
    {
        Directory.Delete(_modelFolder, recursive: true);
        Directory.Delete(_otherFolder, recursive: true);
    }

    [Fact]
    public void AddAutoGlm_Registrations_AreSingletons()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => o.ModelPath = _modelFolder);

        Assert.Equal(ServiceLifetime.Singleton, Assert.Single(services, d => d.ServiceType == typeof(GlmModelHost)).Lifetime);
        Assert.Equal(ServiceLifetime.Singleton, Assert.Single(services, d => d.ServiceType == typeof(IChatClient)).Lifetime);
        ServiceDescriptor hosted = Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Equal(ServiceLifetime.Singleton, hosted.Lifetime);
        Assert.Equal(typeof(GlmModelHostedService), hosted.ImplementationType);
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<AutoGlmOptions>));
    }

    [Fact]
    public async Task AddAutoGlm_ResolvedTwiceAndFromScopes_ReturnsTheSameInstances()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => o.ModelPath = _modelFolder);
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });

        IChatClient client = provider.GetRequiredService<IChatClient>();
        GlmModelHost host = provider.GetRequiredService<GlmModelHost>();
        using IServiceScope scope = provider.CreateScope();

        Assert.Same(client, provider.GetRequiredService<IChatClient>());
        Assert.Same(client, scope.ServiceProvider.GetRequiredService<IChatClient>());
        Assert.Same(host, scope.ServiceProvider.GetRequiredService<GlmModelHost>());
        Assert.Same(host, client.GetService<GlmModelHost>());
        Assert.Null(host.Key);
        Assert.Equal(GlmModelHostState.NotLoaded, host.State);
    }

    [Fact]
    public async Task AddAutoGlm_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => o.ModelPath = _modelFolder);
        services.AddAutoGlm(o => o.MaxBatchSize = 3);
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(GlmModelHost));
        Assert.Single(services, d => d.ServiceType == typeof(IChatClient));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(AutoGlmRegistration));
        AutoGlmOptions options = provider.GetRequiredService<GlmModelHost>().Options;
        Assert.Equal(_modelFolder, options.ModelPath);
        Assert.Equal(3, options.MaxBatchSize);
    }

    [Fact]
    public async Task AddAutoGlm_ChatClientRegisteredBefore_ResolvesAutoGlmLastAndKeepsBoth()
    {
        // Like services.AddChatClient: the last IChatClient registered without a key is the one resolved.
        var services = new ServiceCollection();
        using var mine = new FakeChatClient(new FakeChatClientFactory(), null!);
        services.AddSingleton<IChatClient>(mine);
        services.AddAutoGlm(o => o.ModelPath = _modelFolder);
        await using ServiceProvider provider = services.BuildServiceProvider();

        IChatClient resolved = provider.GetRequiredService<IChatClient>();
        Assert.Same(provider.GetRequiredService<GlmModelHost>(), resolved.GetService<GlmModelHost>());
        Assert.Equal([mine, resolved], provider.GetServices<IChatClient>());
    }

    [Fact]
    public async Task AddKeyedAutoGlm_TwoKeys_EachHasItsOwnHostOptionsAndChatClient()
    {
        var services = new ServiceCollection();
        IAutoGlmBuilder small = services.AddKeyedAutoGlm("small", o => { o.ModelPath = _modelFolder; o.MaxBatchSize = 2; });
        IAutoGlmBuilder large = services.AddKeyedAutoGlm("large", o => { o.ModelPath = _otherFolder; o.MaxBatchSize = 16; });
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        Assert.Equal("small", small.Key);
        Assert.Equal("large", large.Key);
        Assert.Same(services, small.Services);
        GlmModelHost smallHost = provider.GetRequiredKeyedService<GlmModelHost>("small");
        GlmModelHost largeHost = provider.GetRequiredKeyedService<GlmModelHost>("large");
        Assert.NotSame(smallHost, largeHost);
        Assert.Equal(("small", 2, _modelFolder), (smallHost.Key, smallHost.Options.MaxBatchSize, smallHost.Options.ModelPath));
        Assert.Equal(("large", 16, _otherFolder), (largeHost.Key, largeHost.Options.MaxBatchSize, largeHost.Options.ModelPath));
        IChatClient smallClient = provider.GetRequiredKeyedService<IChatClient>("small");
        Assert.Same(smallClient, provider.GetRequiredKeyedService<IChatClient>("small"));
        Assert.Same(smallHost, smallClient.GetService<GlmModelHost>());
        Assert.Same(largeHost, provider.GetRequiredKeyedService<IChatClient>("large").GetService<GlmModelHost>());
        Assert.Null(provider.GetService<IChatClient>());
        Assert.Null(provider.GetService<GlmModelHost>());
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Equal(2, services.Count(d => d.ServiceType == typeof(AutoGlmRegistration)));
    }

    [Fact]
    public async Task AddAutoGlm_ConfigurationSection_BindsEveryOption()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AutoGlm:ModelPath"] = _modelFolder,
            ["AutoGlm:ModelId"] = "glm-edge-test",
            ["AutoGlm:ExecutionProvider"] = "cuda:1",
            ["AutoGlm:IntraOpThreads"] = "2",
            ["AutoGlm:MaxBatchSize"] = "4",
            ["AutoGlm:MaxSequenceLength"] = "1024",
            ["AutoGlm:KvBudgetTokens"] = "4096",
            ["AutoGlm:QueueCapacity"] = "10",
            ["AutoGlm:PrefillChunkTokens"] = "128",
            ["AutoGlm:WeightLoading"] = "Mapped",
            ["AutoGlm:WarmUp"] = "false",
            ["AutoGlm:NativeLibraryPath"] = _otherFolder,
            ["AutoGlm:LoadOnStartup"] = "false",
            ["AutoGlm:KeepAlive"] = "00:05:00",
            ["AutoGlm:DrainTimeout"] = "00:00:12",
            ["AutoGlm:DegradedQueueFraction"] = "0.5",
            ["AutoGlm:DefaultMaxOutputTokens"] = "77",
            ["AutoGlm:ParseReasoning"] = "false",
            ["AutoGlm:OnnxRuntimeSessionConfig:session.intra_op.allow_spinning"] = "0",
        }).Build();
        var services = new ServiceCollection();
        services.AddAutoGlm(configuration.GetSection("AutoGlm"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        AutoGlmOptions o = provider.GetRequiredService<IOptionsMonitor<AutoGlmOptions>>().Get(Options.DefaultName);

        Assert.Equal(_modelFolder, o.ModelPath);
        Assert.Equal("glm-edge-test", o.ModelId);
        Assert.Equal("cuda:1", o.ExecutionProvider);
        Assert.Equal((2, 4, 1024, 4096, 10, 128), (o.IntraOpThreads, o.MaxBatchSize, o.MaxSequenceLength, o.KvBudgetTokens, o.QueueCapacity, o.PrefillChunkTokens));
        Assert.Equal(WeightLoading.Mapped, o.WeightLoading);
        Assert.False(o.WarmUp);
        Assert.False(o.LoadOnStartup);
        Assert.Equal(_otherFolder, o.NativeLibraryPath);
        Assert.Equal(TimeSpan.FromMinutes(5), o.KeepAlive);
        Assert.Equal(TimeSpan.FromSeconds(12), o.DrainTimeout);
        Assert.Equal(0.5, o.DegradedQueueFraction);
        Assert.Equal(77, o.DefaultMaxOutputTokens);
        Assert.False(o.ParseReasoning);
        AutoGlm.Chat.AutoGlmChatClientOptions chat = o.ToChatClientOptions();
        Assert.Equal(("glm-edge-test", 77, false), (chat.ModelId, chat.DefaultMaxOutputTokens, chat.ParseReasoning));
        Assert.Empty(chat.ModelAliases);
        Assert.Equal("glm-edge-test", provider.GetRequiredService<GlmModelHost>().ModelId);
        GlmModelOptions model = o.ToModelOptions(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, meterFactory: null);
        Assert.Equal("CUDA:1", model.ExecutionProvider.ToString());
        Assert.Equal((2, 4, 1024, 4096, 10, 128, true, false), (model.IntraOpThreads, model.MaxBatchSize, model.MaxSequenceLength, model.KvBudgetTokens, model.QueueCapacity, model.PrefillChunkTokens, model.WeightLoading == WeightLoading.Mapped, model.WarmUp));
        Assert.Equal(new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" }, model.OnnxRuntimeSessionConfig);
    }

    [Fact]
    public async Task AddAutoGlm_NoArguments_ReadsTheAutoGlmSectionOfTheAppConfiguration()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AutoGlm:ModelPath"] = _modelFolder,
            ["AutoGlm:QueueCapacity"] = "5",
            ["AutoGlm:LoadOnStartup"] = "false",
            ["AutoGlm:code:ModelPath"] = _otherFolder,
            ["AutoGlm:code:MaxBatchSize"] = "3",
            ["AutoGlm:code:LoadOnStartup"] = "false",
        });
        builder.Services.AddAutoGlm();
        builder.Services.AddKeyedAutoGlm("code");
        using IHost host = builder.Build();

        await host.StartAsync();
        AutoGlmOptions plain = host.Services.GetRequiredService<GlmModelHost>().Options;
        AutoGlmOptions code = host.Services.GetRequiredKeyedService<GlmModelHost>("code").Options;
        await host.StopAsync();

        Assert.Equal((_modelFolder, 5), (plain.ModelPath, plain.QueueCapacity));
        Assert.Equal((_otherFolder, 3), (code.ModelPath, code.MaxBatchSize));
    }

    [Fact]
    public void AddAutoGlm_DefaultOptions_MatchTheDocumentedDefaults()
    {
        var o = new AutoGlmOptions();

        Assert.Equal(("cpu", 0, 8, 64, 256), (o.ExecutionProvider, o.IntraOpThreads, o.MaxBatchSize, o.QueueCapacity, o.PrefillChunkTokens));
        Assert.Equal((WeightLoading.Packed, true, true), (o.WeightLoading, o.WarmUp, o.LoadOnStartup));
        Assert.Null(o.KeepAlive);
        Assert.Equal(TimeSpan.FromSeconds(30), o.DrainTimeout);
        Assert.Equal(0.8, o.DegradedQueueFraction);
        Assert.Equal((512, true), (o.DefaultMaxOutputTokens, o.ParseReasoning));
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_FailsStartUpQuotingEveryBadValue()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddAutoGlm(o =>
        {
            o.ModelPath = "/no/such/model";
            o.MaxBatchSize = 0;
        });
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            [
                "AutoGlm: ModelPath '/no/such/model' does not exist; set it to a model folder written by 'autoglm build' (the folder that holds model.onnx).",
                "AutoGlm: MaxBatchSize must be between 1 and 256; got 0.",
            ],
            ex.Failures);
    }

    [Fact]
    public async Task StartAsync_InvalidKeyedOptions_FailsStartUpNamingTheKey()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddKeyedAutoGlm("chat", o => { o.ModelPath = _modelFolder; o.LoadOnStartup = false; });
        builder.Services.AddKeyedAutoGlm("code", o => { o.ModelPath = _modelFolder; o.ExecutionProvider = "npu"; });
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(["AutoGlm 'code': ExecutionProvider 'npu' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto."], ex.Failures);
    }

    [Fact]
    public async Task GetRequiredService_InvalidOptionsWithoutAHost_ThrowsOnFirstResolution()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => o.ModelPath = null);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IChatClient>());

        Assert.Equal(["AutoGlm: ModelPath is not set; set it to a model folder written by 'autoglm build' (the folder that holds model.onnx)."], ex.Failures);
    }

    [Fact]
    public void AddKeyedAutoGlm_EmptyKey_Throws()
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentException>(() => services.AddKeyedAutoGlm("", o => o.ModelPath = _modelFolder));
    }
}
