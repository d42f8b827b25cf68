using System.Diagnostics;
using System.Text.Json;

namespace AutoGlm.IntegrationTests;

/// <summary>Every documented <c>autoglm</c> command and flag still works (run as a child process on the tiny model).</summary>
[Collection(TinyModelCollection.Name)]
public sealed class CliCommandTests
{
    private readonly TinyModelFixture _fixture;

    public CliCommandTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    /// <summary>A command (empty: the root) and what its help must list.</summary>
    public static TheoryData<string, string[]> DocumentedFlags => new()
    {
        { "", ["chat", "generate", "random", "build", "tokenize", "doctor", "bench", "--verbose", "--help", "--version"] },
        { "chat", ["--model", "--max-new-tokens", "--system", "--greedy", "--verbose"] },
        { "generate", ["--model", "--prompt", "--max-new-tokens", "--greedy", "--ignore-eos", "--json", "--temperature", "--seed", "--provider", "--verbose"] },
        { "random", ["--preset", "tiny|small|glm-edge-1.5b|glm-edge-4b|glm-4-9b", "--arch", "glm|glm4|chatglm", "--seed", "--out", "--layers", "--hidden", "--heads", "--kv-heads", "--head-dim", "--intermediate", "--vocab", "--rotary-factor", "--attention-bias", "--tie-embeddings", "--max-positions", "--init-std", "--dtype"] },
        { "build", ["--from", "--out", "--precision", "fp32|fp16|int4", "--block-size", "--max-length", "--int4-lm-head", "--int4-embedding"] },
        { "tokenize", ["--model", "--tokenizer", "--text", "--file", "--json", "--decode", "--no-special-tokens"] },
        { "doctor", ["--json"] },
        { "bench", ["--model", "--concurrency", "--prompt-tokens", "--new-tokens", "--threads", "--json"] },
    };

    [Theory]
    [MemberData(nameof(DocumentedFlags))]
    public async Task Help_ListsEveryDocumentedFlag(string command, string[] expected)
    {
        CliProcess.Result run = await CliProcess.RunAsync(command.Length == 0 ? ["--help"] : [command, "--help"]);
        CliProcess.Result viaHelp = await CliProcess.RunAsync(command.Length == 0 ? ["help"] : ["help", command]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Errors);
        Assert.StartsWith("Description:", run.Output, StringComparison.Ordinal);
        Assert.Contains(command.Length == 0 ? "autoglm [command] [options]" : $"autoglm {command} [options]", run.Output, StringComparison.Ordinal);
        foreach (string flag in expected)
        {
            Assert.Contains(flag, run.Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, viaHelp.ExitCode);
        Assert.Equal(run.Output, viaHelp.Output);
    }

    [Fact]
    public async Task Generate_GreedyJson_GivesTheRequestedTokensForTheTokenizedPrompt()
    {
        CliProcess.Result tokens = await CliProcess.RunAsync(["tokenize", "--model", _fixture.ModelPath, "--text", "hello world", "--json"]);
        CliProcess.Result run = await CliProcess.RunAsync(["generate", "--model", _fixture.ModelPath, "--prompt", "hello world", "--greedy", "--max-new-tokens", "3", "--ignore-eos", "--json"]);

        Assert.True(run.ExitCode == 0, run.Errors);
        using JsonDocument report = JsonDocument.Parse(run.Output);
        Assert.Equal(tokens.Output.Trim(), report.RootElement.GetProperty("prompt_tokens").GetRawText());
        Assert.Equal(3, report.RootElement.GetProperty("tokens").GetArrayLength());
        Assert.Equal("length", report.RootElement.GetProperty("finish_reason").GetString());
        Assert.True(report.RootElement.GetProperty("timings").GetProperty("total_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task Generate_SeededSamplingWithEqualsSyntax_RepeatsAndStreamsText()
    {
        string[] arguments = [$"--model={_fixture.ModelPath}", "--prompt=hello", "--temperature=0.7", "--seed=5", "--provider=cpu", "--max-new-tokens=6", "--ignore-eos"];

        CliProcess.Result first = await CliProcess.RunAsync(["generate", .. arguments]);
        CliProcess.Result second = await CliProcess.RunAsync(["generate", .. arguments]);

        Assert.True(first.ExitCode == 0, first.Errors);
        Assert.Equal("", first.Errors);
        Assert.EndsWith("\n", first.Output, StringComparison.Ordinal);
        Assert.True(first.Output.Length > 1);
        Assert.Equal(first.Output, second.Output);
    }

    [Fact]
    public async Task Generate_ResponseFile_ExpandsLikeTheSameArgumentsAndKeepsALiteralAtSign()
    {
        string responseFile = Path.Combine(_fixture.Root, "generate.rsp");
        File.WriteAllText(responseFile, $"--model\n{_fixture.ModelPath}\n--prompt \"hello world\"\n# options may share a line\n--greedy --max-new-tokens 3\n");

        CliProcess.Result viaFile = await CliProcess.RunAsync(["generate", $"@{responseFile}", "--json"]);
        CliProcess.Result direct = await CliProcess.RunAsync(["generate", "--model", _fixture.ModelPath, "--prompt", "hello world", "--greedy", "--max-new-tokens", "3", "--json"]);
        CliProcess.Result atSign = await CliProcess.RunAsync(["generate", "--model", _fixture.ModelPath, "--prompt", "@bot hi", "--greedy", "--max-new-tokens", "1", "--json"]);
        CliProcess.Result atTokens = await CliProcess.RunAsync(["tokenize", "--model", _fixture.ModelPath, "--text", "@bot hi", "--json"]);

        Assert.True(viaFile.ExitCode == 0, viaFile.Errors);
        Assert.Equal(Tokens(direct.Output, "prompt_tokens"), Tokens(viaFile.Output, "prompt_tokens"));
        Assert.Equal(Tokens(direct.Output, "tokens"), Tokens(viaFile.Output, "tokens"));
        Assert.True(atSign.ExitCode == 0, atSign.Errors);
        Assert.Equal(atTokens.Output.Trim(), Tokens(atSign.Output, "prompt_tokens"));
    }

    [Fact]
    public async Task Tokenize_EveryInputAndOutputForm_AgreesWithItself()
    {
        string textFile = Path.Combine(_fixture.Root, "tokenize.txt");
        File.WriteAllText(textFile, "<|user|>hi");
        string tokenizerFile = Path.Combine(_fixture.ModelPath, "tokenizer.json");

        CliProcess.Result plain = await CliProcess.RunAsync(["tokenize", "--model", _fixture.ModelPath, "--text", "<|user|>hi"]);
        CliProcess.Result json = await CliProcess.RunAsync(["tokenize", "--tokenizer", tokenizerFile, "--file", textFile, "--json"]);
        CliProcess.Result literal = await CliProcess.RunAsync(["tokenize", "--model", _fixture.ModelPath, "--text", "<|user|>hi", "--no-special-tokens"]);
        CliProcess.Result decoded = await CliProcess.RunAsync(["tokenize", "--model", _fixture.ModelPath, "--text", json.Output, "--decode", "--json"]);

        Assert.True(plain.ExitCode == 0, plain.Errors);
        string[] ids = plain.Output.Trim().Split(' ');
        Assert.Equal("[" + string.Join(",", ids) + "]", json.Output.Trim());
        Assert.Equal(3, ids.Length);
        Assert.True(literal.Output.Trim().Split(' ').Length > ids.Length, literal.Output);
        Assert.Equal("\"<|user|>hi\"", decoded.Output.Trim());
    }

    [Fact]
    public async Task RandomBuildGenerate_EveryShapeAndPrecisionFlag_IsWrittenAndRuns()
    {
        string folder = Path.Combine(_fixture.Root, "pipeline-" + Guid.NewGuid().ToString("N"));
        string checkpoint = Path.Combine(folder, "checkpoint");
        string model = Path.Combine(folder, "model");

        CliProcess.Result random = await CliProcess.RunAsync(
            ["random", "--preset", "tiny", "--arch", "glm4", "--seed", "3", "--layers", "1", "--hidden", "64", "--heads", "2", "--kv-heads", "1", "--head-dim", "32",
             "--intermediate", "128", "--vocab", "512", "--rotary-factor", "0.5", "--attention-bias", "false", "--tie-embeddings", "true", "--max-positions", "128",
             "--init-std", "0.05", "--dtype", "F16", "--out", checkpoint]);
        CliProcess.Result build = await CliProcess.RunAsync(
            ["build", "--from", checkpoint, "--out", model, "--precision", "int4", "--block-size", "32", "--max-length", "64", "--int4-lm-head", "false", "--int4-embedding", "true"]);
        CliProcess.Result generate = await CliProcess.RunAsync(["generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "2", "--greedy", "--ignore-eos", "--json"]);

        Assert.True(random.ExitCode == 0, random.Errors);
        Assert.Equal($"autoglm random: wrote preset tiny (glm4, seed 3) to {checkpoint} in ", random.ErrorLine.Split('\n')[^1][..^"0.0 s".Length]);
        using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json"))))
        {
            JsonElement root = config.RootElement;
            Assert.Equal("glm4", root.GetProperty("model_type").GetString());
            Assert.Equal([1, 64, 2, 1, 32, 128, 512, 128], new[] { "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings" }.Select(k => root.GetProperty(k).GetInt32()));
            Assert.Equal(0.5, root.GetProperty("partial_rotary_factor").GetDouble());
            Assert.False(root.GetProperty("attention_bias").GetBoolean());
            Assert.True(root.GetProperty("tie_word_embeddings").GetBoolean());
        }

        Assert.True(build.ExitCode == 0, build.Errors);
        Assert.StartsWith($"autoglm build: wrote {model} (int4) in ", build.ErrorLine.Split('\n')[^1], StringComparison.Ordinal);
        Assert.Contains("\"context_length\": 64", File.ReadAllText(Path.Combine(model, "genai_config.json")), StringComparison.Ordinal);
        Assert.True(generate.ExitCode == 0, generate.Errors);
        using JsonDocument report = JsonDocument.Parse(generate.Output);
        Assert.Equal(2, report.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public async Task Bench_EveryFlag_ReportsEachLevelAsJsonAndAsATable()
    {
        string[] arguments = ["bench", "--model", _fixture.ModelPath, "--concurrency", "1,2", "--prompt-tokens", "4", "--new-tokens", "4", "--threads", "1"];

        CliProcess.Result json = await CliProcess.RunAsync([.. arguments, "--json"]);
        CliProcess.Result table = await CliProcess.RunAsync(arguments);

        Assert.True(json.ExitCode == 0, json.Errors);
        using JsonDocument report = JsonDocument.Parse(json.Output);
        Assert.Equal([1, 2], report.RootElement.GetProperty("levels").EnumerateArray().Select(l => l.GetProperty("concurrency").GetInt32()));
        Assert.True(table.ExitCode == 0, table.Errors);
        string[] lines = table.Output.TrimEnd().Split('\n');
        Assert.Equal("concurrency  tokens/s   ratio  TTFT p50 ms  TTFT p95 ms  ITL p50 ms  ITL p95 ms  peak KV MiB", lines[1]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public async Task BenchTrace_PrefixReuseWithWarmCold_ServesEveryTurnAndProbesTheLastTurnAgainstACold()
    {
        CliProcess.Result run = await CliProcess.RunAsync(
            ["bench", "--trace", "--model", _fixture.ModelPath, "--conversations", "6", "--rate", "50", "--max-turns", "2", "--think-ms", "0",
             "--seed", "3", "--context", "512", "--threads", "1", "--prefix-reuse", "--warm-cold", "2", "--json"]);

        Assert.True(run.ExitCode == 0, run.Errors);
        using JsonDocument report = JsonDocument.Parse(run.Output);
        JsonElement root = report.RootElement;
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Equal(0, root.GetProperty("rejected_queue_full").GetInt32());
        Assert.Equal(0, root.GetProperty("skipped_for_context").GetInt32());
        Assert.InRange(root.GetProperty("requests").GetInt32(), 7, 12);
        long lookups = root.GetProperty("prefix_lookups").GetInt64();
        Assert.Equal(root.GetProperty("requests").GetInt32(), lookups);
        Assert.InRange(root.GetProperty("prefix_hits").GetInt64(), 1, lookups);
        Assert.InRange(root.GetProperty("prefix_tokens_saved").GetInt64(), 1, root.GetProperty("prompt_tokens").GetInt64());
        JsonElement probe = root.GetProperty("warm_cold");
        Assert.Equal(2, probe.GetProperty("turn").GetInt32());
        Assert.InRange(probe.GetProperty("conversations").GetInt32(), 1, 2);
        Assert.True(probe.GetProperty("warm_first_token_p50_ms").GetDouble() > 0);
        Assert.True(probe.GetProperty("cold_first_token_p50_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task BenchTrace_QueueOfOne_CountsRejectionsApartFromFailures()
    {
        // Twenty conversations arrive within a few milliseconds on a model that runs one request and lets one wait.
        CliProcess.Result run = await CliProcess.RunAsync(
            ["bench", "--trace", "--model", _fixture.ModelPath, "--conversations", "20", "--rate", "1000", "--max-turns", "1",
             "--context", "512", "--threads", "1", "--max-batch", "1", "--queue-capacity", "1", "--json"]);

        Assert.True(run.ExitCode == 0, run.Errors);
        using JsonDocument report = JsonDocument.Parse(run.Output);
        JsonElement root = report.RootElement;
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.InRange(root.GetProperty("rejected_queue_full").GetInt32(), 1, 18);
        Assert.Equal(20, root.GetProperty("requests").GetInt32());
    }

    [Fact]
    public async Task Chat_SystemAndGreedy_AnswersAndExits()
    {
        CliProcess.Result run = await CliProcess.RunAsync(["chat", "--model", _fixture.ModelPath, "--system", "Be brief.", "--greedy", "--max-new-tokens", "4"], "hello\n/exit\n");

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.StartsWith("> ", run.Output, StringComparison.Ordinal);
        Assert.Equal(3, run.Output.Split("> ").Length);
        Assert.EndsWith("Type a message; /reset clears the history, /exit quits, Ctrl+C stops an answer.", run.ErrorLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_Text_NamesTheRuntimeAndTheCpuProvider()
    {
        CliProcess.Result run = await CliProcess.RunAsync(["doctor"]);

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.StartsWith("ONNX Runtime  1.31.0\n", run.Output, StringComparison.Ordinal);
        Assert.Contains("CUDA environment", run.Output, StringComparison.Ordinal);
        Assert.Contains("\n  CPU       available\n", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("autoglm generate --", new[] { "--model", "--prompt", "--max-new-tokens", "--greedy", "--ignore-eos", "--json", "--temperature", "--seed", "--provider", "--verbose" })]
    [InlineData("autoglm build --precision ", new[] { "fp16", "fp32", "int4" })]
    [InlineData("autoglm random --preset g", new[] { "glm-4-9b", "glm-edge-1.5b", "glm-edge-4b" })]
    [InlineData("autoglm gen", new[] { "generate" })]
    public async Task SuggestDirective_CompletesCommandsOptionsAndValues(string line, string[] expected)
    {
        CliProcess.Result run = await CliProcess.RunAsync([$"[suggest:{line.Length}]", line]);

        Assert.True(run.ExitCode == 0, run.Errors);
        string[] suggestions = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string item in expected)
        {
            Assert.Contains(item, suggestions);
        }
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        CliProcess.Result run = await CliProcess.RunAsync(["--version"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", run.Output);
    }

    [SkippableFact]
    public async Task Sigterm_EndsChatAndRandomWith143AndRandomDeletesItsPartialOutput()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX signals.");
        string output = Path.Combine(_fixture.Root, "interrupted-" + Guid.NewGuid().ToString("N"));

        (int chatCode, string chatErrors) = await RunUntilSignalAsync(["chat", "--model", _fixture.ModelPath], "Ready:", "TERM");
        // SIGTERM for both: a test host started in the background inherits SIGINT ignored, and .NET keeps it ignored.
        (int randomCode, string randomErrors) = await RunUntilSignalAsync(["random", "--preset", "small", "--out", output], "tensors ", "TERM");

        Assert.Equal(143, chatCode);
        Assert.Equal("autoglm chat: cancelled", chatErrors.TrimEnd().Split('\n')[^1]);
        Assert.Equal(143, randomCode);
        Assert.Equal("autoglm random: cancelled; the partial output was deleted", randomErrors.TrimEnd().Split('\n')[^1]);
        Assert.False(Directory.Exists(output));
    }

    private static async Task<(int ExitCode, string Errors)> RunUntilSignalAsync(string[] arguments, string waitFor, string signal)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AutoGlm.Cli.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        var errors = new System.Text.StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (errors)
                {
                    errors.AppendLine(line);
                }

                if (line.Contains(waitFor, StringComparison.Ordinal))
                {
                    seen.TrySetResult();
                }
            }
        });
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await seen.Task.WaitAsync(limit.Token);
            using (Process kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(limit.Token);
            }

            await process.WaitForExitAsync(limit.Token);
            await reader.WaitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"autoglm {arguments[0]} did not stop on SIG{signal} within 60 s; stderr: {errors}");
        }

        await output;
        return (process.ExitCode, errors.ToString());
    }

    private static string Tokens(string json, string property)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty(property).GetRawText();
    }
}
