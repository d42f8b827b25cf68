using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// The HTTP mapping with a scripted chat client in place of the model: tool calls out and in, a full queue (429),
/// failures before and during a stream, and how request fields become <see cref="ChatOptions"/>.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ChatClientMappingTests(TinyModelFixture model)
{
    private const string ToolRequest = """
        {"messages":[{"role":"user","content":"Weather in Paris?"}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
         "tool_choice":"required"}
        """;

    [Fact]
    public async Task Post_ToolCall_ReturnsToolCallsWithNullContent()
    {
        using var factory = new SampleFactory(model.ModelPath, chatClient: new ScriptedChatClient(ToolCallUpdates()));
        HttpClient http = factory.CreateClient();

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(ToolRequest));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement choice = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        JsonElement message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        JsonElement call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"Paris"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(call.TryGetProperty("index", out _));
    }

    [Fact]
    public async Task Post_StreamingToolCall_SendsIndexedToolCallDeltaAndToolCallsFinish()
    {
        using var factory = new SampleFactory(model.ModelPath, chatClient: new ScriptedChatClient(ToolCallUpdates()));
        HttpClient http = factory.CreateClient();
        string body = ToolRequest.Replace("\"tool_choice\":\"required\"", "\"tool_choice\":\"required\",\"stream\":true", StringComparison.Ordinal);

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(body));

        List<JsonElement> chunks = ServerSentEvents.Chunks(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, chunks.Count);
        JsonElement call = Assert.Single(chunks[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("""{"city":"Paris"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", chunks[2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Post_ToolRoundTrip_MapsToolsChoiceCallsAndResultsIntoTheChatRequest()
    {
        var client = new ScriptedChatClient([new ChatResponseUpdate(ChatRole.Assistant, "It is sunny.") { FinishReason = ChatFinishReason.Stop }]);
        using var factory = new SampleFactory(model.ModelPath, chatClient: client);
        HttpClient http = factory.CreateClient();
        const string Body = """
            {"messages":[
               {"role":"developer","content":"Use tools."},
               {"role":"user","content":[{"type":"text","text":"Weather in "},{"type":"text","text":"Paris?"}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"sunny, 21 C"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},
             "temperature":0.5,"top_p":0.9,"seed":11,"stop":"END","frequency_penalty":0.25,"presence_penalty":-0.5,"max_tokens":7,
             "response_format":{"type":"json_object"}}
            """;

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(Body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        IReadOnlyList<ChatMessage> messages = client.LastMessages!;
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.Tool], messages.Select(m => m.Role));
        Assert.Equal("Use tools.", messages[0].Text);
        Assert.Equal("Weather in Paris?", messages[1].Text);
        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(messages[2].Contents));
        Assert.Equal(("call_1", "get_weather", "Paris"), (call.CallId, call.Name, ((JsonElement)call.Arguments!["city"]!).GetString()));
        FunctionResultContent result = Assert.IsType<FunctionResultContent>(Assert.Single(messages[3].Contents));
        Assert.Equal(("call_1", "sunny, 21 C"), (result.CallId, result.Result as string));

        ChatOptions options = client.LastOptions!;
        AIFunctionDeclaration tool = Assert.IsAssignableFrom<AIFunctionDeclaration>(Assert.Single(options.Tools!));
        Assert.Equal("get_weather", tool.Name);
        Assert.Equal("string", tool.JsonSchema.GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("get_weather", Assert.IsType<RequiredChatToolMode>(options.ToolMode).RequiredFunctionName);
        Assert.Equal((0.5f, 0.9f, 11L, 0.25f, -0.5f, 7), (options.Temperature, options.TopP, options.Seed, options.FrequencyPenalty, options.PresencePenalty, options.MaxOutputTokens));
        Assert.Equal(["END"], options.StopSequences!);
        Assert.IsType<ChatResponseFormatJson>(options.ResponseFormat);
    }

    [Fact]
    public async Task Post_NoMaxTokens_UsesTheConfiguredBound()
    {
        var client = new ScriptedChatClient([new ChatResponseUpdate(ChatRole.Assistant, "ok")]);
        using var factory = new SampleFactory(model.ModelPath, chatClient: client);

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SampleFactory.MaxTokens, client.LastOptions!.MaxOutputTokens);
        Assert.Null(client.LastOptions.Temperature);
        Assert.Null(client.LastOptions.ToolMode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_QueueFull_Returns429WithRetryAfterAndTheMessage(bool stream)
    {
        const string Message = "The request queue is full (64 waiting); retry later or raise QueueCapacity.";
        using var factory = new SampleFactory(model.ModelPath, chatClient: new ScriptedChatClient([], before: new QueueFullException(Message)));
        string body = $$"""{"messages":[{"role":"user","content":"hi"}],"stream":{{(stream ? "true" : "false")}}}""";

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(body));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(Message, error.GetProperty("message").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("queue_full", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_UnsupportedOptionFromTheChatClient_Returns400()
    {
        var failure = new NotSupportedException("ChatOptions.ResponseFormat Foo is not supported; use Text or Json.");
        using var factory = new SampleFactory(model.ModelPath, chatClient: new ScriptedChatClient([], before: failure));

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(failure.Message, error.GetProperty("message").GetString());
        Assert.Equal("unsupported_value", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_FailureMidStream_SendsAnErrorEventThenDone()
    {
        var client = new ScriptedChatClient([new ChatResponseUpdate(ChatRole.Assistant, "partial")], after: new InvalidOperationException("The session failed at step 3."));
        using var factory = new SampleFactory(model.ModelPath, chatClient: client);

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json("""{"messages":[{"role":"user","content":"hi"}],"stream":true}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        List<JsonElement> events = ServerSentEvents.Chunks(await response.Content.ReadAsStringAsync());
        Assert.Equal("partial", events[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        JsonElement error = events[^1].GetProperty("error");
        Assert.Equal("The model failed: The session failed at step 3.", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_HostStopping_Returns503(bool stream)
    {
        const string Message = "The AutoGlm model host is shutting down and accepts no new requests; send the request to another instance or retry after it restarts.";
        using var factory = new SampleFactory(model.ModelPath, chatClient: new ScriptedChatClient([], before: new AutoGlmException(Message)));
        string body = $$"""{"messages":[{"role":"user","content":"hi"}],"stream":{{(stream ? "true" : "false")}}}""";

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(body));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("The model is not available: " + Message, error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("model_unavailable", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_ClientDisconnectsMidStream_CancelsTheGeneration()
    {
        var client = new ScriptedChatClient([new ChatResponseUpdate(ChatRole.Assistant, "first words")], hang: true);
        using var factory = new SampleFactory(model.ModelPath, chatClient: client);
        HttpClient http = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = ChatCompletionsTests.Json("""{"messages":[{"role":"user","content":"hi"}],"stream":true}"""),
        };

        HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Stream body = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(body);
        string? first = await reader.ReadLineAsync();
        string? second = await ReadDataLineAsync(reader);
        reader.Dispose();
        response.Dispose();

        Assert.StartsWith("data: ", first, StringComparison.Ordinal);
        Assert.Contains("\"content\":\"first words\"", second, StringComparison.Ordinal);
        // Generous: the abort travels through the test server's pipeline, which a loaded CI machine can slow down.
        Task finished = await Task.WhenAny(client.Cancelled.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.Same(client.Cancelled.Task, finished);
    }

    private static async Task<string?> ReadDataLineAsync(StreamReader reader)
    {
        string? line;
        do
        {
            line = await reader.ReadLineAsync();
        }
        while (line is not null && line.Length == 0);
        return line;
    }

    private static List<ChatResponseUpdate> ToolCallUpdates() =>
    [
        new(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
        new(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 20, OutputTokenCount = 9, TotalTokenCount = 29 })]) { FinishReason = ChatFinishReason.ToolCalls },
    ];
}
