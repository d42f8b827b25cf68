using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary><c>AddAutoGlm(...).ChatClientBuilder</c> composes Microsoft.Extensions.AI's real middleware over the hosted model.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ChatClientPipelineTests
{
    private readonly TinyModelFixture _fixture;

    public ChatClientPipelineTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task UseFunctionInvocation_ModelCallsATool_InvokesTheFunctionAndAnswersWithItsResult()
    {
        var scripted = new ToolCallingChatClient();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAutoGlm(Configure)
            .UseChatClientFactory((_, _) => scripted)
            .ChatClientBuilder.UseFunctionInvocation().UseLogging().UseOpenTelemetry();
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var invoked = new List<string>();
        AIFunction weather = AIFunctionFactory.Create((string city) => { invoked.Add(city); return $"sunny in {city}"; }, "get_weather");
        IChatClient client = provider.GetRequiredService<IChatClient>();

        ChatResponse response = await client.GetResponseAsync("What is the weather in Paris?", new ChatOptions { Tools = [weather] });

        Assert.Equal("The weather: sunny in Paris", response.Text);
        Assert.Equal(["Paris"], invoked);
        Assert.Equal(2, scripted.Calls);
        Assert.NotNull(client.GetService<FunctionInvokingChatClient>());
        Assert.NotNull(client.GetService<OpenTelemetryChatClient>());
        Assert.Same(provider.GetRequiredService<GlmModelHost>(), client.GetService<GlmModelHost>());
    }

    [Fact]
    public async Task UseFunctionInvocation_Streaming_InvokesTheFunction()
    {
        var scripted = new ToolCallingChatClient();
        var services = new ServiceCollection();
        services.AddAutoGlm(Configure).UseChatClientFactory((_, _) => scripted).ChatClientBuilder.UseFunctionInvocation();
        await using ServiceProvider provider = services.BuildServiceProvider();
        AIFunction weather = AIFunctionFactory.Create((string city) => $"rain in {city}", "get_weather");

        ChatResponse response = await provider.GetRequiredService<IChatClient>()
            .GetStreamingResponseAsync("Weather?", new ChatOptions { Tools = [weather] }).ToChatResponseAsync();

        Assert.Equal("The weather: rain in Paris", response.Text);
        Assert.Equal(2, scripted.Calls);
    }

    [Fact]
    public async Task UseDistributedCache_SameRequestTwice_ReachesTheModelOnce()
    {
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache();
        services.AddAutoGlm(Configure).ChatClientBuilder.UseDistributedCache();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IChatClient client = provider.GetRequiredService<IChatClient>();
        var options = new ChatOptions { Temperature = 0f, MaxOutputTokens = 4 };

        ChatResponse first = await client.GetResponseAsync("Hello there", options);
        GlmModel model = provider.GetRequiredService<GlmModelHost>().LoadedModel!;
        long steps = model.StepCount;
        ChatResponse second = await client.GetResponseAsync("Hello there", options);

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.ResponseId, second.ResponseId);
        Assert.Equal(steps, model.StepCount);
    }

    [Fact]
    public async Task AddKeyedAutoGlm_AfterAddChatClient_BothResolveAndTheKeyedPipelineInvokesFunctions()
    {
        var other = new ToolCallingChatClient();
        var scripted = new ToolCallingChatClient();
        var services = new ServiceCollection();
        services.AddChatClient(other);
        services.AddKeyedAutoGlm("glm", Configure).UseChatClientFactory((_, _) => scripted).ChatClientBuilder.UseFunctionInvocation();
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        AIFunction weather = AIFunctionFactory.Create((string city) => $"fog in {city}", "get_weather");

        IChatClient keyed = provider.GetRequiredKeyedService<IChatClient>("glm");
        ChatResponse response = await keyed.GetResponseAsync("Weather?", new ChatOptions { Tools = [weather] });

        Assert.Equal("The weather: fog in Paris", response.Text);
        Assert.Same(provider.GetRequiredKeyedService<GlmModelHost>("glm"), keyed.GetService<GlmModelHost>());
        Assert.Same(other, provider.GetRequiredService<IChatClient>().GetService<ToolCallingChatClient>());
        Assert.Equal(0, other.Calls);
    }

    [Fact]
    public async Task AddAutoGlm_AfterAddChatClient_IsResolvedLikeALaterAddChatClientAndWraps()
    {
        var other = new ToolCallingChatClient();
        var scripted = new ToolCallingChatClient();
        var services = new ServiceCollection();
        services.AddChatClient(other);
        services.AddAutoGlm(Configure).UseChatClientFactory((_, _) => scripted).ChatClientBuilder.UseFunctionInvocation();
        await using ServiceProvider provider = services.BuildServiceProvider();
        AIFunction weather = AIFunctionFactory.Create((string city) => $"snow in {city}", "get_weather");

        IChatClient client = provider.GetRequiredService<IChatClient>();
        ChatResponse response = await client.GetResponseAsync("Weather?", new ChatOptions { Tools = [weather] });

        Assert.Equal("The weather: snow in Paris", response.Text);
        Assert.NotNull(client.GetService<FunctionInvokingChatClient>());
        Assert.Equal(2, provider.GetServices<IChatClient>().Count());
        Assert.Equal(0, other.Calls);
    }

    [Fact]
    public void AddAutoGlm_CalledTwice_ReturnsOnePipeline()
    {
        var services = new ServiceCollection();
        IAutoGlmBuilder first = services.AddAutoGlm(Configure);
        IAutoGlmBuilder second = services.AddAutoGlm(o => o.MaxBatchSize = 2);
        IAutoGlmBuilder keyed = services.AddKeyedAutoGlm("other", Configure);

        Assert.Same(first.ChatClientBuilder, second.ChatClientBuilder);
        Assert.NotSame(first.ChatClientBuilder, keyed.ChatClientBuilder);
        Assert.Single(services, d => d.ServiceType == typeof(IChatClient) && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(IChatClient) && d.IsKeyedService && Equals(d.ServiceKey, "other"));
    }

    private void Configure(AutoGlmOptions options)
    {
        options.ModelPath = _fixture.ModelPath;
        options.LoadOnStartup = false;
        options.WarmUp = false;
    }
}
