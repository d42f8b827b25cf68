using AutoGlm.Chat;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AutoGlm.IntegrationTests;

/// <summary>Tools through the real model: a template that drops them is reported; a steered tool call runs through M.E.AI's function invocation.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class AutoGlmChatClientToolTests
{
    // A chat template with no tool support: it renders the messages and nothing of `tools`.
    private const string ToolBlindTemplate =
        "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

    private readonly TinyModelFixture _fixture;

    public AutoGlmChatClientToolTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task GetResponseAsync_TemplateIgnoresTools_WarnsInTheLogAndTheResponse()
    {
        using var logs = new ListLoggerFactory();
        await using GlmModel model = await GlmModel.LoadAsync(_fixture.ModelPath, new GlmModelOptions { WarmUp = false, LoggerFactory = logs });
        using var client = new AutoGlmChatClient(model, new AutoGlmChatClientOptions { ModelId = "blind", ChatTemplate = ChatTemplate.Parse(ToolBlindTemplate) });
        AIFunction weather = AIFunctionFactory.Create((string city) => city, "get_weather", "Gets the weather");
        AIFunction time = AIFunctionFactory.Create(() => "noon", "get_time", "Gets the time");

        ChatResponse response = await client.GetResponseAsync("Weather?", new ChatOptions { Tools = [weather, time], MaxOutputTokens = 2, Temperature = 0f });

        Assert.Equal(["get_weather", "get_time"], (string[])response.AdditionalProperties![AutoGlmChatClient.ToolsDroppedPropertyName]!);
        string warning = Assert.Single(logs.Messages, m => m.Level == LogLevel.Warning).Text;
        Assert.Equal(
            "The chat template of model 'blind' left 2 tool(s) out of the prompt (get_weather, get_time): the model cannot call them. " +
            "Use a model whose chat_template renders tools, or set AutoGlmChatClientOptions.ChatTemplate.",
            warning);
    }

    [Fact]
    public async Task GetResponseAsync_BuiltInGlm4TemplateRendersTools_AddsNoWarning()
    {
        using var logs = new ListLoggerFactory();
        await using GlmModel model = await GlmModel.LoadAsync(_fixture.ModelPath, new GlmModelOptions { WarmUp = false, LoggerFactory = logs });
        using var client = new AutoGlmChatClient(model, new AutoGlmChatClientOptions { ChatTemplate = ChatTemplate.Glm4 });
        AIFunction weather = AIFunctionFactory.Create((string city) => city, "get_weather", "Gets the weather");

        ChatResponse response = await client.GetResponseAsync("Weather?", new ChatOptions { Tools = [weather], MaxOutputTokens = 2, Temperature = 0f });

        Assert.False(response.AdditionalProperties?.ContainsKey(AutoGlmChatClient.ToolsDroppedPropertyName) ?? false, string.Join("\n", logs.Messages));
        Assert.DoesNotContain(logs.Messages, m => m.Level >= LogLevel.Warning && m.Text.Contains("tool", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UseFunctionInvocation_SteeredModelCallsATool_InvokesTheRealFunction()
    {
        await using GlmModel probe = await GlmModel.LoadAsync(_fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        int[] forced = [.. probe.Tokenizer.Encode("get_weather\n{\"city\": \"Paris\", \"days\": 2}", parseSpecialTokens: false), probe.Info.EosTokenIds[0]];
        await using GlmModel steered = GlmModel.LoadWithDecorator(_fixture.ModelPath, new GlmModelOptions { PrefillChunkTokens = 4096, WarmUp = false }, inner => new ForcingDecoder(inner, forced));
        var calls = new List<(string City, int Days)>();
        AIFunction weather = AIFunctionFactory.Create((string city, int days) => { calls.Add((city, days)); return $"{city}: sunny for {days} days"; }, "get_weather", "Gets the weather");
        using IChatClient client = new ChatClientBuilder(new AutoGlmChatClient(steered))
            .UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 1)
            .Build();

        ChatResponse response = await client.GetResponseAsync("Weather in Paris?", new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 64 });

        Assert.Equal([("Paris", 2)], calls);
        FunctionResultContent result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal("Paris: sunny for 2 days", result.Result?.ToString());
    }

    /// <summary>Keeps every message logged through it.</summary>
    private sealed class ListLoggerFactory : ILoggerFactory
    {
        private readonly List<(LogLevel Level, string Text)> _messages = [];

        public IReadOnlyList<(LogLevel Level, string Text)> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._messages)
                {
                    owner._messages.Add((logLevel, formatter(state, exception)));
                }
            }
        }
    }
}
