using System.Text.Json;
using AutoGlm.Samples.WebApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// The official OpenAI client library (the <c>openai</c> npm package, run by node) against the sample served by Kestrel
/// on a free 127.0.0.1 port, with an API key: a plain and a streaming completion, a rejected request, the model list.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class OpenAiClientEndToEndTests(TinyModelFixture model)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task OpenAiNodeClient_PlainAndStreaming_GetTheSameAnswerAsTheChatClient()
    {
        Skip.IfNot(ExternalProcess.IsOnPath("node") && ExternalProcess.IsOnPath("npm"), "node and npm are needed to run the openai npm package; install Node.js to run this test.");
        string script = Path.Combine(AppContext.BaseDirectory, "OpenAiClient");
        ExternalProcess.Result fetch = await ExternalProcess.RunAsync("bash", [Path.Combine(script, "fetch-openai.sh")], s_limit);
        Skip.If(fetch.ExitCode != 0, $"the openai npm package could not be fetched (npm registry unavailable?): {fetch.Error.Trim()}");
        string package = fetch.Output.Trim();

        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SampleApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [$"--AutoGlm:ModelPath={model.ModelPath}", "--AutoGlm:MaxSequenceLength=256", "--OpenAiApi:Port=0", "--OpenAiApi:ApiKey=e2e-key", "--Logging:LogLevel:Default=Warning"],
        });
        SampleApp.Configure(builder);
        await using WebApplication app = builder.Build();
        SampleApp.Map(app);
        await app.StartAsync();
        string address = Assert.Single(app.Urls);
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);

        ChatResponse expected = await app.Services.GetRequiredService<IChatClient>().GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hello")], new ChatOptions { MaxOutputTokens = 6, Temperature = 0, Seed = 7 });
        ExternalProcess.Result run = await ExternalProcess.RunAsync("node", [Path.Combine(script, "chat.mjs"), package, address + "/v1", "model", "e2e-key"], s_limit);
        await app.StopAsync();

        Assert.True(run.ExitCode == 0, $"node exited with {run.ExitCode}: {run.Error}");
        JsonElement seen = JsonDocument.Parse(run.Output).RootElement;
        JsonElement plain = seen.GetProperty("plain");
        Assert.Equal("chat.completion", plain.GetProperty("object").GetString());
        Assert.Equal("model", plain.GetProperty("model").GetString());
        Assert.Equal(expected.Text, plain.GetProperty("text").GetString());
        string finish = expected.FinishReason == ChatFinishReason.Length ? "length" : "stop";
        Assert.Equal(finish, plain.GetProperty("finish").GetString());
        Assert.Equal(expected.Usage!.OutputTokenCount, plain.GetProperty("usage").GetProperty("completion_tokens").GetInt64());

        JsonElement stream = seen.GetProperty("stream");
        Assert.Equal(expected.Text, stream.GetProperty("text").GetString());
        Assert.Equal(finish, stream.GetProperty("finish").GetString());
        Assert.Equal(expected.Usage.InputTokenCount, stream.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.True(stream.GetProperty("chunks").GetInt32() >= 3);

        JsonElement rejected = seen.GetProperty("rejected");
        Assert.Equal(400, rejected.GetProperty("status").GetInt32());
        Assert.Equal("invalid_request_error", rejected.GetProperty("type").GetString());
        Assert.Equal("max_tokens", rejected.GetProperty("param").GetString());
        Assert.Equal("invalid_value", rejected.GetProperty("code").GetString());
        Assert.Equal(["model"], seen.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }
}
