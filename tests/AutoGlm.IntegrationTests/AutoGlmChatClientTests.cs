using AutoGlm.Chat;
using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Tokenization;
using Microsoft.Extensions.AI;

namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class AutoGlmChatClientTests : IAsyncLifetime
{
    private readonly TinyModelFixture _fixture;
    private GlmModel _model = null!;
    private AutoGlmChatClient _client = null!;

    public AutoGlmChatClientTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    public async Task InitializeAsync()
    {
        _model = await GlmModel.LoadAsync(_fixture.ModelPath);
        _client = new AutoGlmChatClient(_model);
    }

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Fact]
    public async Task GetResponseAsync_MaxOutputTokens_EndsWithLengthAndReportsUsage()
    {
        ChatResponse response = await _client.GetResponseAsync([new ChatMessage(ChatRole.User, "Tell me a story")], new ChatOptions { MaxOutputTokens = 7, Temperature = 0 });

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(7, response.Usage!.OutputTokenCount);
        Assert.True(response.Usage.InputTokenCount > 3);
        Assert.Equal(response.Usage.InputTokenCount + 7, response.Usage.TotalTokenCount);
        Assert.Equal(_client.ModelId, response.ModelId);
    }

    [Fact]
    public async Task GetResponseAsync_Temperature0_EqualsTheModelsGreedyTokens()
    {
        ChatMessage[] messages = [new(ChatRole.User, "Hello")];
        ChatResponse response = await _client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 10, Temperature = 0 });

        GenerationResult direct = await _model.GenerateAsync(_client.Template.Render([new ChatTemplateMessage("user", "Hello")]), new GenerationOptions { Temperature = 0, MaxNewTokens = 10 });

        Assert.Equal(direct.Text, response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_SameSeed_IsReproducible()
    {
        var options = new ChatOptions { MaxOutputTokens = 12, Temperature = 1.0f, Seed = 1234 };
        ChatMessage[] messages = [new(ChatRole.User, "Random words please")];

        ChatResponse first = await _client.GetResponseAsync(messages, options);
        ChatResponse second = await _client.GetResponseAsync(messages, options);
        ChatResponse other = await _client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 12, Temperature = 1.0f, Seed = 99 });

        Assert.Equal(first.Text, second.Text);
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StopSequenceSpanningTokens_StopsBeforeIt()
    {
        ChatMessage[] messages = [new(ChatRole.User, "Write")];
        // Greedy text without a stop sequence; pick a stop string that straddles the boundary of two tokens.
        GenerationResult full = await _model.GenerateAsync(_client.Template.Render([new ChatTemplateMessage("user", "Write")]), new GenerationOptions { Temperature = 0, MaxNewTokens = 30, IgnoreEos = true });
        (string stop, int stopAt) = StraddlingStop(full);

        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in _client.GetStreamingResponseAsync(messages, new ChatOptions { MaxOutputTokens = 30, Temperature = 0, StopSequences = [stop] }))
        {
            updates.Add(update);
        }

        Assert.Equal(full.Text[..stopAt], string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.Single(updates[^1].Contents.OfType<UsageContent>());
    }

    [Fact]
    public async Task GetResponseAsync_ConversationId_IsRejectedExplicitly()
    {
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ConversationId = "abc" }));

        Assert.Equal("ChatOptions.ConversationId ('abc') is not supported: AutoGlm keeps no conversation state; send the whole history with each request.", ex.Message);
    }

    [Fact]
    public async Task GetResponseAsync_OtherModelId_IsRejected()
    {
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ModelId = "gpt-4" }));

        Assert.StartsWith("ChatOptions.ModelId is 'gpt-4', but this client serves", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_JsonFormatWithStopSequences_IsRejectedBecauseTheyCouldCutTheJson()
    {
        ChatMessage[] messages = [new(ChatRole.User, "json please")];
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, StopSequences = ["}"], MaxOutputTokens = 40 };

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _client.GetResponseAsync(messages, options));

        Assert.Equal("ChatOptions.StopSequences cannot be combined with a JSON response format: a stop sequence could cut the JSON short.", ex.Message);
    }

    [Fact]
    public async Task GetResponseAsync_ModelSteeredToCallATool_YieldsFunctionCallThenUsesTheResult()
    {
        int eos = _model.Info.EosTokenIds[0];
        int[] forced = [.. _model.Tokenizer.Encode("get_weather\n{\"city\": \"Paris\", \"days\": 2}", parseSpecialTokens: false), eos];
        await using GlmModel steered = GlmModel.LoadWithDecorator(_fixture.ModelPath, new GlmModelOptions { PrefillChunkTokens = 4096, WarmUp = false }, inner => new ForcingDecoder(inner, forced));
        using var client = new AutoGlmChatClient(steered);
        AIFunction weather = AIFunctionFactory.Create((string city, int days) => $"{city}: sunny for {days} days", "get_weather", "Gets the weather");
        var options = new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 64 };
        var history = new List<ChatMessage> { new(ChatRole.User, "Weather in Paris?") };

        ChatResponse response = await client.GetResponseAsync(history, options);

        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Paris", call.Arguments!["city"]!.ToString());
        Assert.Equal("2", call.Arguments!["days"]!.ToString());
        Assert.Empty(response.Text);

        // Round trip: run the function and send its result back through the tool (observation) role.
        object? result = await weather.InvokeAsync(new AIFunctionArguments(call.Arguments));
        history.AddRange(response.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, result)]));
        string prompt = client.Template.Render(ChatMessageConverter.ToTemplateMessages(history, null, null), tools: ChatMessageConverter.ToTemplateTools([weather]));
        Assert.Contains("\nParis: sunny for 2 days<|assistant|>", prompt, StringComparison.Ordinal);

        // The steered model would call the tool again; the plain one answers.
        ChatResponse followUp = await _client.GetResponseAsync(history, new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 5 });
        Assert.NotEqual(ChatFinishReason.ToolCalls, followUp.FinishReason);
        Assert.True(followUp.Usage!.InputTokenCount > response.Usage!.InputTokenCount);
    }

    [Fact]
    public void GetService_ReturnsModelTokenizerInfoAndMetadata()
    {
        Assert.Same(_model, _client.GetService<GlmModel>());
        Assert.Same(_model.Tokenizer, _client.GetService<Tokenizer>());
        Assert.Same(_model.Info, _client.GetService<GlmModelInfo>());
        Assert.Equal("autoglm", _client.GetService<ChatClientMetadata>()!.ProviderName);
        Assert.Null(_client.GetService<GlmModel>("some-key"));
    }

    private static (string Stop, int StopAt) StraddlingStop(GenerationResult result)
    {
        int offset = 0;
        for (int i = 0; i + 1 < result.Tokens.Count; i++)
        {
            string a = result.Tokens[i].Text;
            string b = result.Tokens[i + 1].Text;
            if (offset > 0 && a.Length >= 1 && b.Length >= 1)
            {
                string stop = a[^1..] + b[..1];
                int at = result.Text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0)
                {
                    return (stop, at);
                }
            }

            offset += a.Length;
        }

        throw new InvalidOperationException("the greedy text has no two adjacent non-empty tokens");
    }
}
