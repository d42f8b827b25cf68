using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AutoGlm.Samples.WebApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// Hostile request bodies: bytes that are not UTF-8, strings that are not text, numbers that are not finite, values
/// the model refuses. Every one is a 4xx in OpenAI's error shape naming the right <c>param</c>, never a 5xx.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class UntrustedBodyTests(TinyModelFixture model)
{
    private const string User = """{"role":"user","content":"hi"}""";

    /// <summary>Bodies as raw bytes (hex escapes are spelled out) that are not valid UTF-8.</summary>
    public static TheoryData<string, byte[]> InvalidUtf8 => new()
    {
        { "lone continuation byte in content", Bytes("""{"messages":[{"role":"user","content":"a""", [0x80], "\"}]}") },
        { "truncated 2-byte sequence", Bytes("""{"messages":[{"role":"user","content":"a""", [0xC3], "\"}]}") },
        { "truncated 3-byte sequence", Bytes("""{"messages":[{"role":"user","content":"a""", [0xE2, 0x82], "\"}]}") },
        { "overlong slash", Bytes("""{"messages":[{"role":"user","content":"a""", [0xC0, 0xAF], "\"}]}") },
        { "encoded surrogate", Bytes("""{"messages":[{"role":"user","content":"a""", [0xED, 0xA0, 0x80], "\"}]}") },
        { "code point above U+10FFFF", Bytes("""{"messages":[{"role":"user","content":"a""", [0xF4, 0x90, 0x80, 0x80], "\"}]}") },
        { "0xFF byte", Bytes("""{"messages":[{"role":"user","content":"a""", [0xFF], "\"}]}") },
        { "bad byte in a key", Bytes("""{"messages":[""" + User + """],"x""", [0xFE], "\":1}") },
        { "bad byte in role", Bytes("""{"messages":[{"role":"us""", [0x80], "er\",\"content\":\"hi\"}]}") },
        { "bad byte in model", Bytes("""{"model":"m""", [0xC1, 0x81], "\",\"messages\":[" + User + "]}") },
        { "bad byte in stop", Bytes("""{"messages":[""" + User + """],"stop":["x""", [0xF8, 0x88, 0x80, 0x80, 0x80], "\"]}") },
        { "bad byte in tool arguments", Bytes("{\"messages\":[" + User + ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\\\"", [0x80], "\\\"}\"}}]}]}") },
        { "Latin-1 body", Encoding.Latin1.GetBytes("""{"messages":[{"role":"user","content":"café"}]}""") },
        { "UTF-16 body", Encoding.Unicode.GetBytes("""{"messages":[{"role":"user","content":"hi"}]}""") },
    };

    /// <summary>Bodies that are UTF-8 but hold a string with a lone surrogate escape.</summary>
    public static TheoryData<string, string> LoneSurrogates => new()
    {
        { "content \\ud800", """{"messages":[{"role":"user","content":"a\ud800b"}]}""" },
        { "content \\udfff", """{"messages":[{"role":"user","content":"\udfff"}]}""" },
        { "content reversed pair", """{"messages":[{"role":"user","content":"\ude00\ud83d"}]}""" },
        { "content high then text", """{"messages":[{"role":"user","content":"\ud83dx"}]}""" },
        { "role", """{"messages":[{"role":"\ud800","content":"hi"}]}""" },
        { "key", """{"messages":[""" + User + """],"\ud800":1}""" },
        { "model", """{"model":"\ud800","messages":[""" + User + """]}""" },
        { "stop string", """{"messages":[""" + User + """],"stop":"\ud800"}""" },
        { "stop list", """{"messages":[""" + User + """],"stop":["ok","\udc00"]}""" },
        { "content part text", """{"messages":[{"role":"user","content":[{"type":"text","text":"\ud800"}]}]}""" },
        { "system content", """{"messages":[{"role":"system","content":"\ud800"},""" + User + """]}""" },
        { "tool name", """{"messages":[""" + User + """],"tools":[{"type":"function","function":{"name":"\ud800"}}]}""" },
        { "tool description", """{"messages":[""" + User + """],"tools":[{"type":"function","function":{"name":"f","description":"\ud800"}}]}""" },
        { "tool call id", """{"messages":[""" + User + """,{"role":"assistant","tool_calls":[{"id":"\ud800","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""" },
        { "tool call arguments", """{"messages":[""" + User + """,{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":\"\\ud800\"}"}}]}]}""" },
        { "tool result", """{"messages":[""" + User + """,{"role":"tool","tool_call_id":"\ud800","content":"x"}]}""" },
        { "response format name", """{"messages":[""" + User + """],"response_format":{"type":"json_schema","json_schema":{"name":"\ud800","schema":{}}}}""" },
    };

    /// <summary>Values that parse but are out of range, of the wrong type or refused by the model: body, param, code.</summary>
    public static TheoryData<string, string, string> BadValues => new()
    {
        { """{"messages":[""" + User + """],"top_p":0}""", "top_p", "invalid_value" },
        { """{"messages":[""" + User + """],"top_p":-0.0}""", "top_p", "invalid_value" },
        { """{"messages":[""" + User + """],"top_p":1.0000001}""", "top_p", "invalid_value" },
        { """{"messages":[""" + User + """],"top_p":1e400}""", "top_p", "invalid_value" },
        { """{"messages":[""" + User + """],"temperature":1e400}""", "temperature", "invalid_value" },
        { """{"messages":[""" + User + """],"temperature":-1e-300}""", "temperature", "invalid_value" },
        { """{"messages":[""" + User + """],"temperature":0.00000001}""", "temperature", "invalid_value" },
        { """{"messages":[""" + User + """],"frequency_penalty":1e400}""", "frequency_penalty", "invalid_value" },
        { """{"messages":[""" + User + """],"presence_penalty":-2.5}""", "presence_penalty", "invalid_value" },
        { """{"messages":[""" + User + """],"min_p":"abc"}""", "min_p", "invalid_type" },
        { """{"messages":[""" + User + """],"min_p":true}""", "min_p", "invalid_type" },
        { """{"messages":[""" + User + """],"min_p":[0.1]}""", "min_p", "invalid_type" },
        { """{"messages":[""" + User + """],"min_p":1.5}""", "min_p", "invalid_value" },
        { """{"messages":[""" + User + """],"min_p":-0.1}""", "min_p", "invalid_value" },
        { """{"messages":[""" + User + """],"seed":1e30}""", "seed", "invalid_type" },
        { """{"messages":[""" + User + """],"seed":"7"}""", "seed", "invalid_type" },
        { """{"messages":[""" + User + """],"max_tokens":9223372036854775808}""", "max_tokens", "invalid_type" },
        { """{"messages":[""" + User + """],"max_tokens":-9223372036854775808}""", "max_tokens", "invalid_value" },
        { """{"messages":[""" + User + """],"n":99999999999999999999}""", "n", "invalid_type" },
        { """{"messages":[""" + User + """],"stop":[""]}""", "stop", "invalid_value" },
        { """{"messages":[""" + User + """],"stop":[1]}""", "stop", "invalid_type" },
        { """{"messages":[{"role":"user","content":""" + "\"" + new string('x', 3000) + "\"" + """}]}""", "messages", "context_length_exceeded" },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task Post_BodyNotUtf8_Returns400InvalidJson(string scenario, byte[] body)
    {
        JsonElement error = await PostAsync(body, HttpStatusCode.BadRequest);

        // UTF-16 is valid UTF-8 byte for byte (ASCII and NULs), so it fails as JSON instead.
        Assert.StartsWith(scenario == "UTF-16 body" ? "The request body is not valid JSON" : "The request body is not valid UTF-8; send JSON encoded as UTF-8.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(scenario));
    }

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public async Task Post_LoneSurrogateEscape_Returns400NamingTheProblem(string scenario, string body)
    {
        JsonElement error = await PostAsync(Encoding.UTF8.GetBytes(body), HttpStatusCode.BadRequest);

        string message = error.GetProperty("message").GetString()!;
        Assert.True(message.StartsWith("The request body holds a string that is not valid text", StringComparison.Ordinal), $"{scenario}: {message}");
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Post_BadValue_Returns400NamingTheParam(string body, string param, string code)
    {
        JsonElement error = await PostAsync(Encoding.UTF8.GetBytes(body), HttpStatusCode.BadRequest);

        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Post_TopPZero_SaysItMustBeGreaterThanZero()
    {
        JsonElement error = await PostAsync(Encoding.UTF8.GetBytes("""{"messages":[""" + User + """],"top_p":0}"""), HttpStatusCode.BadRequest);

        Assert.Equal("top_p is 0; it must be greater than 0 and at most 1.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Post_ValidMinP_IsAccepted()
    {
        using HttpResponseMessage response = await model.Sample.CreateClient().PostAsync(
            "/v1/chat/completions",
            ChatCompletionsTests.Json("""{"messages":[""" + User + """],"min_p":0.05,"max_tokens":2,"temperature":0}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2_000)]
    public async Task Post_DeeplyNestedJson_Returns400(int depth)
    {
        string body = """{"messages":[""" + User + """],"metadata":""" + new string('[', depth) + new string(']', depth) + "}";

        JsonElement error = await PostAsync(Encoding.UTF8.GetBytes(body), HttpStatusCode.BadRequest);

        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_OversizedBodyToKestrel_Returns413WithoutAnErrorLog(bool chunked)
    {
        var logs = new ConcurrentQueue<string>();
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SampleApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [$"--AutoGlm:ModelPath={model.ModelPath}", "--AutoGlm:MaxSequenceLength=256", "--AutoGlm:WarmUp=false", "--OpenAiApi:Port=0", "--OpenAiApi:MaxRequestBodyBytes=65536"],
        });
        SampleApp.Configure(builder);
        builder.Logging.AddProvider(new QueueLoggerProvider(logs));
        await using WebApplication app = builder.Build();
        SampleApp.Map(app);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Assert.Single(app.Urls)), Timeout = TimeSpan.FromSeconds(30) };
        var content = new StreamContent(new MemoryStream(new byte[10 * 1024 * 1024]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (!chunked)
        {
            content.Headers.ContentLength = 10 * 1024 * 1024;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = chunked;
        HttpStatusCode status;
        string text;
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request);
            status = response.StatusCode;
            text = await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException ex)
        {
            // The server may close the connection while the client is still sending the rest of the body.
            status = ex.StatusCode ?? HttpStatusCode.RequestEntityTooLarge;
            text = ex.Message;
        }

        await app.StopAsync();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.DoesNotContain(logs, line => line.StartsWith("Error", StringComparison.Ordinal) || line.StartsWith("Critical", StringComparison.Ordinal));
        Assert.False(string.IsNullOrEmpty(text));
    }

    private async Task<JsonElement> PostAsync(byte[] body, HttpStatusCode expected)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await model.Sample.CreateClient().PostAsync("/v1/chat/completions", content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected} but got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("error").Clone();
    }

    private static byte[] Bytes(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(lines, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class QueueLogger(ConcurrentQueue<string> lines, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
