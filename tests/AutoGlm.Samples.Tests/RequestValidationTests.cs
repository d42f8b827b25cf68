using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AutoGlm.Samples.Tests;

/// <summary>Bad requests get OpenAI's error JSON with the right 4xx status, <c>param</c> and <c>code</c>, and an exact message.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class RequestValidationTests(TinyModelFixture model)
{
    public static TheoryData<string, int, string?, string, string> Cases => new()
    {
        { "{not json", 400, null, "invalid_json", "The request body is not valid JSON: '\u006E' is an invalid start of a property name. Expected a '\"'. LineNumber: 0 | BytePositionInLine: 1." },
        { "[]", 400, null, "invalid_json", "The request body must be a JSON object, not an array." },
        { """{"max_tokens":5}""", 400, "messages", "missing_required_parameter", "Missing required parameter: 'messages'." },
        { """{"messages":[]}""", 400, "messages", "empty_array", "'messages' must contain at least one message." },
        { """{"messages":"hi"}""", 400, "messages", "invalid_type", "'messages' must be an array, not a string." },
        { """{"messages":[{"role":"user","content":"1"},{"role":"user","content":"2"},{"role":"user","content":"3"},{"role":"user","content":"4"},{"role":"user","content":"5"}]}""", 400, "messages", "array_above_max_length", "'messages' has 5 messages; at most 4 are allowed." },
        { """{"messages":[{"role":"wizard","content":"hi"}]}""", 400, "messages[0].role", "invalid_value", "'wizard' is not one of 'system', 'developer', 'user', 'assistant', 'tool' - 'messages[0].role'." },
        { """{"messages":[{"content":"hi"}]}""", 400, "messages[0].role", "missing_required_parameter", "Missing required parameter: 'messages[0].role'." },
        { """{"messages":[{"role":"user"}]}""", 400, "messages[0].content", "missing_required_parameter", "Missing required parameter: 'messages[0].content'." },
        { """{"messages":[{"role":"tool","content":"42"}]}""", 400, "messages[0].tool_call_id", "missing_required_parameter", "Missing required parameter: 'messages[0].tool_call_id'." },
        { """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", 400, "messages[0].content[0].type", "invalid_value", "Content part type 'image_url' is not supported at 'messages[0].content[0].type'; GLM text models accept 'text' parts only." },
        { """{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", 400, "max_tokens", "invalid_value", "max_tokens is 0; it must be between 1 and 64." },
        { """{"messages":[{"role":"user","content":"hi"}],"max_tokens":65}""", 400, "max_tokens", "invalid_value", "max_tokens is 65; it must be between 1 and 64." },
        { """{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":1000}""", 400, "max_completion_tokens", "invalid_value", "max_completion_tokens is 1000; it must be between 1 and 64." },
        { """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}""", 400, "max_tokens", "invalid_type", "'max_tokens' must be an integer, not 1.5." },
        { """{"messages":[{"role":"user","content":"hi"}],"temperature":2.5}""", 400, "temperature", "invalid_value", "temperature is 2.5; it must be between 0 and 2." },
        { """{"messages":[{"role":"user","content":"hi"}],"top_p":"high"}""", 400, "top_p", "invalid_type", "'top_p' must be a number, not a string." },
        { """{"messages":[{"role":"user","content":"hi"}],"n":9}""", 400, "n", "invalid_value", "n is 9; it must be between 1 and 8." },
        { """{"messages":[{"role":"user","content":"hi"}],"n":2,"stream":true}""", 400, "n", "unsupported_value", "n is 2 with stream true; this server streams one choice per request. Send n requests, or leave stream false to get 2 choices in one response." },
        { """{"messages":[{"role":"user","content":"hi"}],"top_logprobs":2}""", 400, "top_logprobs", "invalid_value", "top_logprobs requires logprobs to be true." },
        { """{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21}""", 400, "top_logprobs", "invalid_value", "top_logprobs is 21; it must be between 0 and 20." },
        { """{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"high"}""", 400, "reasoning_effort", "unsupported_parameter", "Unsupported parameter: 'reasoning_effort' is not supported with this model." },
        { """{"messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", 400, "stop", "array_above_max_length", "'stop' has 5 sequences; at most 4 are allowed." },
        { """{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", 400, "stream", "invalid_type", "'stream' must be a boolean, not a string." },
        { """{"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", 400, "stream_options", null!, "stream_options is only allowed when stream is true." },
        { """{"messages":[{"role":"user","content":"hi"}],"frobnicate":1}""", 400, "frobnicate", "unknown_parameter", "Unrecognized request argument supplied: frobnicate" },
        { """{"messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}""", 400, "tool_choice", "invalid_value", "tool_choice is 'required' but no tools were given." },
        { """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""", 400, "tool_choice.function.name", "invalid_value", "tool_choice names function 'g', which is not in 'tools'." },
        { """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"retrieval"}]}""", 400, "tools[0].type", "invalid_value", "'tools[0].type' is 'retrieval'; only 'function' tools are supported." },
        { """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}""", 400, "response_format.type", "invalid_value", "response_format.type 'yaml' is not one of 'text', 'json_object', 'json_schema'." },
        { """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""", 404, "model", "model_not_found", "The model 'gpt-4o' does not exist; this server serves 'model' (see GET /v1/models)." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_InvalidRequest_ReturnsOpenAiError(string body, int status, string? param, string? code, string message)
    {
        HttpClient http = model.Sample.CreateClient();

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(body));

        Assert.Equal(status, (int)response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_Returns413()
    {
        HttpClient http = model.Sample.CreateClient();
        string body = $$"""{"messages":[{"role":"user","content":"{{new string('x', SampleFactory.MaxBodyBytes)}}"}]}""";

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", ChatCompletionsTests.Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal($"The request body has at least {body.Length} bytes; at most {SampleFactory.MaxBodyBytes} are accepted (OpenAiApi:MaxRequestBodyBytes).", error.GetProperty("message").GetString());
        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_ChunkedBodyOverTheLimit_Returns413()
    {
        HttpClient http = model.Sample.CreateClient();
        var content = new StreamContent(new MemoryStream(new byte[SampleFactory.MaxBodyBytes * 3]));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using HttpResponseMessage response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Get_UnknownPath_Returns404InOpenAiShape()
    {
        HttpClient http = model.Sample.CreateClient();

        using HttpResponseMessage response = await http.GetAsync("/v1/engines");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("Unknown path GET /v1/engines.", error.GetProperty("message").GetString());
        Assert.Equal("unknown_url", error.GetProperty("code").GetString());
    }
}
