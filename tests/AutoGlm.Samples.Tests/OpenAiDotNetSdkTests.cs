#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.
using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGlm.Samples.WebApi;
using Json.Schema;
using Microsoft.AspNetCore.Builder;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// The official OpenAI .NET SDK (2.15.0) against the sample served by Kestrel on a free 127.0.0.1 port, on the tiny
/// random model: strict json_schema answers validate (JsonSchema.Net), required and named tool choices return tool
/// calls whose arguments validate, logprobs come back as the SDK reads them, n = 2 gives two choices, models are
/// retrieved by id, and a too-long prompt is context_length_exceeded.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class OpenAiDotNetSdkTests(TinyModelFixture model) : IAsyncLifetime
{
    private const string PetSchema = """{"type":"object","properties":{"name":{"type":"string","maxLength":10},"legs":{"type":"integer"},"kind":{"enum":["cat","dog"]}},"required":["name","legs","kind"],"additionalProperties":false}""";
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"],"additionalProperties":false}""";
    private const string LightSchema = """{"type":"object","properties":{"on":{"type":"boolean"}},"required":["on"],"additionalProperties":false}""";

    private WebApplication _app = null!;
    private OpenAIClientOptions _options = null!;
    private ChatClient _chat = null!;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SampleApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [$"--AutoGlm:ModelPath={model.ModelPath}", "--AutoGlm:MaxSequenceLength=256", "--OpenAiApi:Port=0", "--OpenAiApi:ApiKey=sdk-key", "--Logging:LogLevel:Default=Warning"],
        });
        SampleApp.Configure(builder);
        _app = builder.Build();
        SampleApp.Map(_app);
        await _app.StartAsync();
        string address = Assert.Single(_app.Urls);
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);
        _options = new OpenAIClientOptions { Endpoint = new Uri(address + "/v1"), NetworkTimeout = TimeSpan.FromSeconds(60) };
        _chat = new ChatClient("model", new ApiKeyCredential("sdk-key"), _options);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task JsonSchemaStrict_SampledAnswers_ValidateAgainstTheSchema()
    {
        JsonSchema validator = JsonSchema.FromText(PetSchema);
        for (int seed = 0; seed < 12; seed++)
        {
            var options = new ChatCompletionOptions
            {
                ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("pet", BinaryData.FromString(PetSchema), jsonSchemaIsStrict: true),
                Temperature = 1.2f,
                Seed = seed,
                MaxOutputTokenCount = 48,
            };
            ChatCompletion completion = (await _chat.CompleteChatAsync([new UserChatMessage("A pet")], options)).Value;

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            string text = completion.Content[0].Text;
            Assert.True(validator.Evaluate(JsonNode.Parse(text)).IsValid, text);
        }
    }

    [Fact]
    public async Task ToolChoiceRequiredAndNamed_ReturnToolCallsWhoseArgumentsValidate()
    {
        ChatTool weather = ChatTool.CreateFunctionTool("get_weather", "Weather forecast", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true);
        ChatTool light = ChatTool.CreateFunctionTool("set_light", "Switch the light", BinaryData.FromString(LightSchema), functionSchemaIsStrict: true);
        for (int seed = 0; seed < 8; seed++)
        {
            var required = new ChatCompletionOptions { Tools = { weather, light }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), Temperature = 1f, Seed = seed, MaxOutputTokenCount = 48 };
            ChatCompletion completion = (await _chat.CompleteChatAsync([new UserChatMessage("Do it")], required)).Value;
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            ChatToolCall call = Assert.Single(completion.ToolCalls);
            string schema = call.FunctionName == "get_weather" ? WeatherSchema : call.FunctionName == "set_light" ? LightSchema : throw new InvalidOperationException(call.FunctionName);
            Assert.True(JsonSchema.FromText(schema).Evaluate(JsonNode.Parse(call.FunctionArguments.ToString())).IsValid, call.FunctionArguments.ToString());

            var named = new ChatCompletionOptions { Tools = { weather, light }, ToolChoice = ChatToolChoice.CreateFunctionChoice("set_light"), Temperature = 1f, Seed = seed, MaxOutputTokenCount = 48 };
            ChatToolCall forced = Assert.Single((await _chat.CompleteChatAsync([new UserChatMessage("Lights")], named)).Value.ToolCalls);
            Assert.Equal("set_light", forced.FunctionName);
            Assert.True(JsonSchema.FromText(LightSchema).Evaluate(JsonNode.Parse(forced.FunctionArguments.ToString())).IsValid);
        }
    }

    [Fact]
    public async Task LogProbabilities_AreReturnedPerTokenWithTheAlternatives()
    {
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 3, Temperature = 0f, MaxOutputTokenCount = 6 };
        ChatCompletion completion = (await _chat.CompleteChatAsync([new UserChatMessage("Hello")], options)).Value;

        Assert.NotEmpty(completion.ContentTokenLogProbabilities);
        Assert.Equal(completion.Usage.OutputTokenCount - (completion.FinishReason == ChatFinishReason.Stop ? 1 : 0), completion.ContentTokenLogProbabilities.Count);
        foreach (ChatTokenLogProbabilityDetails token in completion.ContentTokenLogProbabilities)
        {
            Assert.True(token.LogProbability <= 0f);
            Assert.Equal(3, token.TopLogProbabilities.Count);

            // Greedy: the chosen token is the most likely one.
            Assert.Equal(token.Token, token.TopLogProbabilities[0].Token);
            Assert.Equal(token.LogProbability, token.TopLogProbabilities[0].LogProbability, 4);
        }

        ChatCompletion plain = (await _chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 6 })).Value;
        Assert.Empty(plain.ContentTokenLogProbabilities);
        Assert.Equal(plain.Content[0].Text, completion.Content[0].Text);
    }

    [Fact]
    public async Task NTwo_ThroughTheProtocolMethod_ReturnsTwoChoices()
    {
        BinaryContent body = BinaryContent.Create(BinaryData.FromString("""{"model":"model","messages":[{"role":"user","content":"Hi"}],"n":2,"temperature":1,"seed":3,"max_tokens":8}"""));
        ClientResult result = await _chat.CompleteChatAsync(body);
        using JsonDocument document = JsonDocument.Parse(result.GetRawResponse().Content.ToString());
        JsonElement choices = document.RootElement.GetProperty("choices");

        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal([0, 1], choices.EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
        JsonElement usage = document.RootElement.GetProperty("usage");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        // Each choice is what the same request with seed + index gives alone.
        for (int i = 0; i < 2; i++)
        {
            ChatCompletion single = (await _chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 1f, Seed = 3 + i, MaxOutputTokenCount = 8 })).Value;
            Assert.Equal(single.Content.Count == 0 ? string.Empty : single.Content[0].Text, choices[i].GetProperty("message").GetProperty("content").GetString());
        }
    }

    [Fact]
    public async Task GetModel_KnownAndUnknownIds()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("sdk-key"), _options);
        OpenAIModel found = (await models.GetModelAsync("model")).Value;
        Assert.Equal("model", found.Id);
        Assert.Equal("autoglm", found.OwnedBy);

        ClientResultException missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("gpt-4o"));
        Assert.Equal(404, missing.Status);
        Assert.Contains("model_not_found", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooLongPrompt_IsContextLengthExceeded()
    {
        string words = string.Join(' ', Enumerable.Repeat("river mountain", 200));
        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => _chat.CompleteChatAsync([new UserChatMessage(words)], new ChatCompletionOptions { MaxOutputTokenCount = 4 }));
        Assert.Equal(400, error.Status);
        Assert.Contains("context_length_exceeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsupportedSchemaKeyword_Is400NamingTheKeyword()
    {
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("x", BinaryData.FromString("""{"type":"object","properties":{"n":{"type":"string","pattern":"^a"}}}"""), jsonSchemaIsStrict: true),
            MaxOutputTokenCount = 16,
        };
        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => _chat.CompleteChatAsync([new UserChatMessage("x")], options));
        Assert.Equal(400, error.Status);
        Assert.Contains("The JSON schema's 'pattern' at #/properties/n is not supported", error.Message, StringComparison.Ordinal);
        Assert.Contains("response_format", error.Message, StringComparison.Ordinal);
    }
}
