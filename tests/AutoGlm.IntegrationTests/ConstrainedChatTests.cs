using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGlm.Chat;
using AutoGlm.Generation;
using Json.Schema;
using Microsoft.Extensions.AI;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// The chat client's response formats and required tool modes on the tiny random model: forced tool calls always
/// parse and their arguments validate (JsonSchema.Net) against the function's parameter schema; JSON formats hold.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ConstrainedChatTests(TinyModelFixture fixture)
{
    private static readonly AIFunction s_weather = AIFunctionFactory.Create((string city, int days) => $"{city}:{days}", "get_weather", "Weather forecast");
    private static readonly AIFunction s_light = AIFunctionFactory.Create((bool on, string room) => on ? room : string.Empty, "set_light", "Switch a light");

    public sealed record Pet(string Name, int Legs);

    [Fact]
    public async Task ToolModeRequireAny_60SampledRuns_AlwaysAToolCallWhoseArgumentsValidate()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 8, WarmUp = false });
        using var client = new AutoGlmChatClient(model);
        var names = new HashSet<string>();
        Task<ChatResponse>[] runs = [.. Enumerable.Range(0, 60).Select(seed => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, $"Do something #{seed}")],
            new ChatOptions { Tools = [s_weather, s_light], ToolMode = ChatToolMode.RequireAny, Temperature = 1.2f, Seed = seed, MaxOutputTokens = 64 }))];
        foreach (ChatResponse response in await Task.WhenAll(runs))
        {
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
            FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Null(call.Exception);
            AIFunction function = call.Name == "get_weather" ? s_weather : call.Name == "set_light" ? s_light : throw new InvalidOperationException(call.Name);
            names.Add(call.Name);
            JsonNode? arguments = JsonSerializer.SerializeToNode(call.Arguments, AIJsonUtilities.DefaultOptions);
            Assert.True(JsonSchema.FromText(function.JsonSchema.GetRawText()).Evaluate(arguments).IsValid, $"{call.Name} {arguments?.ToJsonString()} vs {function.JsonSchema.GetRawText()}");
        }

        Assert.Equal(2, names.Count);
    }

    [Fact]
    public async Task ToolModeRequireSpecific_CallsThatFunction()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        using var client = new AutoGlmChatClient(model);
        for (int seed = 0; seed < 10; seed++)
        {
            ChatResponse response = await client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, "Lights")],
                new ChatOptions { Tools = [s_weather, s_light], ToolMode = ChatToolMode.RequireSpecific("set_light"), Temperature = 1f, Seed = seed, MaxOutputTokens = 48 });
            FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Equal("set_light", call.Name);
            Assert.IsType<bool>(((JsonElement)call.Arguments!["on"]!).GetBoolean());
        }

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "x")], new ChatOptions { Tools = [s_weather], ToolMode = ChatToolMode.RequireSpecific("nope") }));
        Assert.Contains("has no function of that name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponseFormatForJsonSchemaOfT_RandomModel_DeserializesToAPet()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        using var client = new AutoGlmChatClient(model);
        for (int seed = 0; seed < 10; seed++)
        {
            ChatResponse response = await client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, "A pet")],
                new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema<Pet>(AIJsonUtilities.DefaultOptions), Temperature = 1f, Seed = seed, MaxOutputTokens = 64 });
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            Pet? pet = JsonSerializer.Deserialize<Pet>(response.Text, AIJsonUtilities.DefaultOptions);
            Assert.NotNull(pet!.Name);
        }
    }

    [Fact]
    public async Task ResponseFormatJson_IsAJsonObject_AndLogProbabilitiesAreAttached()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        using var client = new AutoGlmChatClient(model);
        ChatResponse response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "JSON please")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Temperature = 1f, Seed = 5, MaxOutputTokens = 40, AdditionalProperties = new() { ["top_logprobs"] = 2 } });
        using JsonDocument document = JsonDocument.Parse(response.Text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.User, "JSON please")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Temperature = 1f, Seed = 5, MaxOutputTokens = 40, AdditionalProperties = new() { ["top_logprobs"] = 2 } }))
        {
            updates.Add(update);
        }

        List<ChatTokenLogProbability> probabilities = [.. updates.SelectMany(u => u.AdditionalProperties?[AutoGlmChatClient.LogProbabilitiesKey] as List<ChatTokenLogProbability> ?? [])];
        Assert.Equal(response.Usage!.OutputTokenCount - 1, probabilities.Count); // every token but the end token
        Assert.All(probabilities, p => Assert.Equal(2, p.TopLogProbabilities.Count));
    }

    [Fact]
    public async Task ResponseFormat_UnsupportedSchema_ThrowsGrammarExceptionBeforeGenerating()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        using var client = new AutoGlmChatClient(model);
        JsonElement schema = JsonDocument.Parse("""{"type":"object","properties":{"n":{"type":"string","format":"email"}}}""").RootElement;
        GrammarException error = await Assert.ThrowsAsync<GrammarException>(() => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "x")], new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) }));
        Assert.Equal("format", error.Keyword);
        Assert.Equal("#/properties/n", error.Path);
        Assert.Equal(0, model.StepCount);
    }
}
