using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Samples.Tests;

/// <summary>The endpoints on the tiny random model: the HTTP answers must carry exactly what the chat client produced.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ChatCompletionsTests(TinyModelFixture model)
{
    private const string Request = """{"model":"model","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}],"max_tokens":12,"temperature":0,"seed":3}""";

    [Fact]
    public async Task Post_NonStreaming_ReturnsTheChatClientsAnswerInOpenAiShape()
    {
        HttpClient http = model.Sample.CreateClient();
        ChatResponse expected = await ExpectedAsync();

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", Json(Request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal("model", body.GetProperty("model").GetString());
        Assert.InRange(body.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        JsonElement choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(expected.Text, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal(expected.FinishReason == ChatFinishReason.Length ? "length" : "stop", choice.GetProperty("finish_reason").GetString());
        JsonElement usage = body.GetProperty("usage");
        Assert.Equal(expected.Usage!.InputTokenCount, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(expected.Usage.OutputTokenCount, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(expected.Usage.InputTokenCount + expected.Usage.OutputTokenCount, usage.GetProperty("total_tokens").GetInt64());
    }

    [Fact]
    public async Task Post_Streaming_SendsRoleThenDeltasThenFinishThenUsageThenDone()
    {
        HttpClient http = model.Sample.CreateClient();
        ChatResponse expected = await ExpectedAsync();
        string streaming = Request.Replace("\"seed\":3", "\"seed\":3,\"stream\":true,\"stream_options\":{\"include_usage\":true}", StringComparison.Ordinal);

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", Json(streaming));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        List<JsonElement> chunks = ServerSentEvents.Chunks(await response.Content.ReadAsStringAsync());
        Assert.True(chunks.Count >= 3, $"expected at least role, finish and usage chunks, got {chunks.Count}");
        string id = chunks[0].GetProperty("id").GetString()!;
        Assert.All(chunks, c =>
        {
            Assert.Equal(id, c.GetProperty("id").GetString());
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal("model", c.GetProperty("model").GetString());
        });

        JsonElement first = Assert.Single(chunks[0].GetProperty("choices").EnumerateArray());
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("finish_reason").ValueKind);

        var text = new StringBuilder();
        foreach (JsonElement chunk in chunks.Skip(1).Take(chunks.Count - 3))
        {
            JsonElement choice = Assert.Single(chunk.GetProperty("choices").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("finish_reason").ValueKind);
            text.Append(choice.GetProperty("delta").GetProperty("content").GetString());
        }

        Assert.Equal(expected.Text, text.ToString());
        JsonElement finish = Assert.Single(chunks[^2].GetProperty("choices").EnumerateArray());
        Assert.Equal(expected.FinishReason == ChatFinishReason.Length ? "length" : "stop", finish.GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        JsonElement usage = chunks[^1].GetProperty("usage");
        Assert.Equal(expected.Usage!.InputTokenCount, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(expected.Usage.OutputTokenCount, usage.GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task Post_StreamingWithoutIncludeUsage_EndsWithFinishChunkAndNoUsage()
    {
        HttpClient http = model.Sample.CreateClient();

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"stream":true}"""));

        List<JsonElement> chunks = ServerSentEvents.Chunks(await response.Content.ReadAsStringAsync());
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.NotEqual(JsonValueKind.Null, chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_PromptLongerThanTheContext_Returns400WithTheLengths(bool stream)
    {
        HttpClient http = model.Sample.CreateClient();
        string words = string.Join(' ', Enumerable.Repeat("river mountain", 200));
        string body = $$"""{"messages":[{"role":"user","content":"{{words}}"}],"max_tokens":4,"stream":{{(stream ? "true" : "false")}}}""";

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Matches(@"^The prompt has \d+ tokens but the model's context holds 256 \(MaxSequenceLength\), which leaves no room to generate; shorten the prompt to at most 255 tokens\.$", error.GetProperty("message").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Models_Get_ListsTheServedModel()
    {
        HttpClient http = model.Sample.CreateClient();

        JsonElement body = await http.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal("list", body.GetProperty("object").GetString());
        JsonElement entry = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("model", entry.GetProperty("id").GetString());
        Assert.Equal("model", entry.GetProperty("object").GetString());
        Assert.Equal("autoglm", entry.GetProperty("owned_by").GetString());
    }

    [Fact]
    public async Task Health_Get_IsHealthyOnceLoaded()
    {
        HttpClient http = model.Sample.CreateClient();
        (HttpStatusCode Status, string Body) health = default;
        // The model loads in the background at start-up; the check is Unhealthy (503) until then.
        for (int attempt = 0; attempt < 100; attempt++)
        {
            using HttpResponseMessage response = await http.GetAsync("/health");
            health = (response.StatusCode, await response.Content.ReadAsStringAsync());
            if (health.Status == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), health);
            await Task.Delay(100);
        }

        Assert.Equal((HttpStatusCode.OK, "Healthy"), health);
    }

    [Fact]
    public async Task Health_ModelFolderBroken_IsUnhealthy()
    {
        string broken = Path.Combine(model.Root, "broken-model");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "model.onnx"), "not a model");
        File.WriteAllText(Path.Combine(broken, "genai_config.json"), "{ not json");
        using var factory = new SampleFactory(broken);
        HttpClient http = factory.CreateClient();

        using HttpResponseMessage health = await http.GetAsync("/health");
        using HttpResponseMessage completion = await http.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, completion.StatusCode);
        JsonElement error = (await completion.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("model_unavailable", error.GetProperty("code").GetString());
        Assert.StartsWith("The model is not available: ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<ChatResponse> ExpectedAsync()
    {
        IChatClient client = model.Sample.Services.GetRequiredService<IChatClient>();
        return await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Hello there")],
            new ChatOptions { MaxOutputTokens = 12, Temperature = 0, Seed = 3 });
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
