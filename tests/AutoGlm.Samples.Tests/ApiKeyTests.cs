using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AutoGlm.Samples.Tests;

/// <summary>With <c>OpenAiApi:ApiKey</c> set, <c>/v1/*</c> needs <c>Authorization: Bearer</c>; health and metrics stay open.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ApiKeyTests(TinyModelFixture model)
{
    [Theory]
    [InlineData(null, "missing_api_key", "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.")]
    [InlineData("Basic c2VjcmV0", "missing_api_key", "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.")]
    [InlineData("Bearer wrong", "invalid_api_key", "Incorrect API key provided.")]
    [InlineData("Bearer s3cret-but-longer", "invalid_api_key", "Incorrect API key provided.")]
    public async Task Get_WithoutTheRightKey_Returns401(string? authorization, string code, string message)
    {
        using var factory = new SampleFactory(model.ModelPath, apiKey: "s3cret");
        HttpClient http = factory.CreateClient();
        if (authorization is not null)
        {
            http.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        using HttpResponseMessage response = await http.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_WithoutKey_Returns401BeforeReadingTheBody()
    {
        using var factory = new SampleFactory(model.ModelPath, apiKey: "s3cret");

        using HttpResponseMessage response = await factory.CreateClient().PostAsync("/v1/chat/completions", ChatCompletionsTests.Json("{not json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Get_WithTheKey_Succeeds()
    {
        using var factory = new SampleFactory(model.ModelPath, apiKey: "s3cret");
        HttpClient http = factory.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");

        using HttpResponseMessage response = await http.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/metrics")]
    public async Task Get_OperationalEndpoints_NeedNoKey(string path)
    {
        using var factory = new SampleFactory(model.ModelPath, apiKey: "s3cret", chatClient: new ScriptedChatClient([]));

        using HttpResponseMessage response = await factory.CreateClient().GetAsync(path);

        // /health may be 503 while the model is still loading; what matters is that no key was asked for.
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable });
        Assert.Empty(response.Headers.WwwAuthenticate);
    }
}
