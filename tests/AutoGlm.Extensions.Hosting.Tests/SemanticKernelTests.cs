using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>Semantic Kernel over the hosted AutoGlm chat client: prompts, automatic function calling, and its <c>ModelId</c>.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class SemanticKernelTests
{
    private readonly TinyModelFixture _fixture;

    public SemanticKernelTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task InvokePromptAsync_FunctionChoiceAuto_CallsTheKernelFunctionTheModelAsksFor()
    {
        var scripted = new ToolCallingChatClient();
        var cities = new List<string>();
        var services = new ServiceCollection();
        services.AddAutoGlm(o => Configure(o, "glm-4"))
            .UseChatClientFactory((_, _) => scripted)
            .ChatClientBuilder.UseKernelFunctionInvocation();
        services.AddKernel().Plugins.AddFromFunctions("weather", [KernelFunctionFactory.CreateFromMethod((string city) => { cities.Add(city); return $"sunny in {city}"; }, "get_weather")]);
        await using ServiceProvider provider = services.BuildServiceProvider();
        Kernel kernel = provider.GetRequiredService<Kernel>();

        FunctionResult result = await kernel.InvokePromptAsync(
            "What is the weather in Paris?",
            new KernelArguments(new PromptExecutionSettings { ModelId = "glm-4", FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }));

        Assert.Equal("The weather: sunny in Paris", result.ToString());
        Assert.Equal(["Paris"], cities);
        Assert.Equal(2, scripted.Calls);
    }

    [Fact]
    public async Task InvokePromptAsync_ModelIdIsAnAlias_AnswersFromTheTinyModel()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => Configure(o, "glm-4"));
        services.AddKernel();
        await using ServiceProvider provider = services.BuildServiceProvider();
        Kernel kernel = provider.GetRequiredService<Kernel>();
        var settings = new PromptExecutionSettings { ModelId = "glm-4", ExtensionData = new Dictionary<string, object> { ["max_tokens"] = 3, ["temperature"] = 0 } };

        FunctionResult result = await kernel.InvokePromptAsync("Hello", new KernelArguments(settings));

        ChatResponse direct = await provider.GetRequiredService<IChatClient>().GetResponseAsync("Hello", new ChatOptions { MaxOutputTokens = 3, Temperature = 0f });
        Assert.Equal(direct.Text, result.ToString());
    }

    [Fact]
    public async Task InvokePromptAsync_ModelIdNotConfigured_FailsWithTheFix()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => Configure(o, "glm-4-plus"));
        services.AddKernel();
        await using ServiceProvider provider = services.BuildServiceProvider();

        NotSupportedException error = await Assert.ThrowsAsync<NotSupportedException>(
            () => provider.GetRequiredService<Kernel>().InvokePromptAsync("Hello", new KernelArguments(new PromptExecutionSettings { ModelId = "glm-4" })));

        Assert.Contains("add 'glm-4' to AutoGlmChatClientOptions.ModelAliases (AutoGlm:ModelAliases when hosted)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ModelIdNeitherServedNorAnAlias_ThrowsNamingTheAliasOption()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => Configure(o, "glm-4"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        NotSupportedException error = await Assert.ThrowsAsync<NotSupportedException>(
            () => provider.GetRequiredService<IChatClient>().GetResponseAsync("Hello", new ChatOptions { ModelId = "gpt-4o", MaxOutputTokens = 2 }));

        Assert.Equal(
            "ChatOptions.ModelId is 'gpt-4o', but this client serves 'model-v1' (aliases 'glm-4'). Leave ModelId unset, add 'gpt-4o' to " +
            "AutoGlmChatClientOptions.ModelAliases (AutoGlm:ModelAliases when hosted), or use the client registered for that model.",
            error.Message);
    }

    private void Configure(AutoGlmOptions options, string alias)
    {
        options.ModelPath = _fixture.ModelPath;
        options.LoadOnStartup = false;
        options.WarmUp = false;
        options.ModelAliases.Add(alias);
    }
}
