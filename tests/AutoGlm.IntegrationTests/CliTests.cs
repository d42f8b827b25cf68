namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class CliTests
{
    private readonly TinyModelFixture _fixture;

    public CliTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Chat_HistoryOutgrowingTheContextAndAnOversizedMessage_KeepsChattingAndExitsCleanly()
    {
        string[] lines = [.. Enumerable.Repeat(string.Concat(Enumerable.Repeat("word ", 40)), 8), "/reset", "hello again", string.Concat(Enumerable.Repeat("x ", 400)), "still here?", "/exit"];

        (int exitCode, string output, string errors) = await RunCliAsync(["chat", "--model", _fixture.ModelPath, "--max-new-tokens", "20", "--greedy"], string.Join('\n', lines) + "\n");

        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr: {errors}");
        Assert.Contains("(oldest messages dropped to fit the context)", errors, StringComparison.Ordinal);
        Assert.Contains("(history cleared)", output, StringComparison.Ordinal);
        Assert.Contains("[cannot answer: The prompt has ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", errors, StringComparison.Ordinal);
        // It kept answering after the oversized message: "still here?" got a prompt and an answer, then /exit its prompt.
        string afterRefusal = output[output.IndexOf("[cannot answer: ", StringComparison.Ordinal)..];
        Assert.True(afterRefusal.Split('\n').Count(l => l.StartsWith("> ", StringComparison.Ordinal)) >= 2, afterRefusal);
    }

    [Fact]
    public async Task Chat_MissingModelFolder_PrintsOneLineAndFails()
    {
        string missing = Path.Combine(_fixture.Root, "no-such-model");

        (int exitCode, string output, string errors) = await RunCliAsync(["chat", "--model", missing], "");

        Assert.Equal(1, exitCode);
        Assert.Equal($"autoglm chat: The model folder '{missing}' does not exist. Build one with 'autoglm build --from CHECKPOINT --out {missing}' (or 'autoglm random' for a test model).", errors.Trim().Split('\n')[^1]);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_Json_ReportsTheLoadedRuntimeAndWhyGpuProvidersAreUnavailable()
    {
        (int exitCode, string output, string errors) = await RunCliAsync(["doctor", "--json"], "");

        Assert.True(exitCode == 0, errors);
        using var report = System.Text.Json.JsonDocument.Parse(output);
        System.Text.Json.JsonElement root = report.RootElement;
        Assert.Equal("1.31.0", root.GetProperty("onnxruntime_version").GetString());
        Assert.EndsWith(Path.Combine("native", "libonnxruntime.so"), root.GetProperty("onnxruntime_path").GetString(), StringComparison.Ordinal);
        System.Text.Json.JsonElement[] providers = [.. root.GetProperty("providers").EnumerateArray()];
        Assert.Equal(["CPU", "CUDA", "DirectML"], providers.Select(p => p.GetProperty("name").GetString()));
        Assert.True(providers[0].GetProperty("available").GetBoolean());
        if (!providers[1].GetProperty("available").GetBoolean())
        {
            Assert.Contains("AutoGlm.Cuda", providers[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(Environment.ProcessorCount, root.GetProperty("logical_cores").GetInt32());
    }

    [Fact]
    public async Task UnknownCommand_ExitsWithTwoAndNamesIt()
    {
        (int exitCode, _, string errors) = await RunCliAsync(["frobnicate"], "");

        Assert.Equal(2, exitCode);
        Assert.Equal("autoglm: unknown command 'frobnicate'. Run 'autoglm --help' for the list.", errors.Trim());
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunCliAsync(string[] arguments, string input)
    {
        CliProcess.Result result = await CliProcess.RunAsync(arguments, input);
        return (result.ExitCode, result.Output, result.Errors);
    }
}
