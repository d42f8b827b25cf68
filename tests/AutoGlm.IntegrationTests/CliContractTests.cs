using System.Text.Json;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// The <c>autoglm</c> contract, run as a user runs it (a child process): every documented command and flag works,
/// and every bad input ends with its documented exit code and exactly one line on stderr — no stack trace, no signal.
/// Placeholders in the arguments: {model} the tiny model, {root} a scratch folder, {huge} a 30,000-character text,
/// {bad:KIND} a damaged copy of the tiny model.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class CliContractTests
{
    private static readonly string s_huge = new('a', 30_000);
    private static readonly object s_gate = new();
    private readonly TinyModelFixture _fixture;

    public CliContractTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    /// <summary>Command line, exit code, the one line on stderr.</summary>
    public static TheoryData<string[], int, string> Failures => new()
    {
        // Usage errors (2): nothing runs.
        { [], 2, "autoglm: give a command (chat, generate, random, build, tokenize, doctor, bench). Run 'autoglm <command> --help' for its options." },
        { ["frobnicate"], 2, "autoglm: unknown command 'frobnicate'. Run 'autoglm --help' for the list." },
        { ["gnerate", "--model", "{model}"], 2, "autoglm: unknown command 'gnerate' (did you mean 'generate'?). Run 'autoglm --help' for the list." },
        { ["--frob"], 2, "autoglm: unknown option '--frob'. Run 'autoglm --help' for the options." },
        { ["generate", "--prompt", "hi"], 2, "autoglm generate: Option '--model' is required. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}"], 2, "autoglm generate: Option '--prompt' is required. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt"], 2, "autoglm generate: Required argument missing for option: '--prompt'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", ""], 2, "autoglm generate: option '--prompt' is empty; give the text to continue from. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "", "--prompt", "hi"], 2, "autoglm generate: option '--model' is empty; give a model folder written by 'autoglm build'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--max-new-tokens", "abc"], 2, "autoglm generate: option '--max-new-tokens' must be an integer from 1 to 1000000, not 'abc'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--max-new-tokens", "0"], 2, "autoglm generate: option '--max-new-tokens' must be an integer from 1 to 1000000, not '0'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--max-new-tokens", "99999999999"], 2, "autoglm generate: option '--max-new-tokens' must be an integer from 1 to 1000000, not '99999999999'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--temperature", "nan"], 2, "autoglm generate: option '--temperature' must be a number from 0 to 100, not 'nan'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--temperature", "-1"], 2, "autoglm generate: option '--temperature' must be a number from 0 to 100, not '-1'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--seed", "-5"], 2, "autoglm generate: option '--seed' must be an integer from 0 to 2147483647, not '-5'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--provider", "tpu"], 2, "autoglm generate: option '--provider' must be cpu, cuda, cuda:N, directml or auto, not 'tpu'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--max-tokens", "3"], 2, "autoglm generate: unknown option '--max-tokens' (did you mean '--max-new-tokens'?). Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "extra"], 2, "autoglm generate: unexpected argument 'extra'; options start with '--'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--{huge}"], 2, "autoglm generate: unknown option '--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… (30002 characters)'. Run 'autoglm generate --help' for the options." },
        { ["generate", "--model", "{model}", "--prompt", "hi", "--max-new-tokens", "{huge}"], 2, "autoglm generate: option '--max-new-tokens' must be an integer from 1 to 1000000, not 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… (30000 characters)'. Run 'autoglm generate --help' for the options." },
        { ["chat", "--model", "{model}", "--max-new-tokens", "x"], 2, "autoglm chat: option '--max-new-tokens' must be an integer from 1 to 1000000, not 'x'. Run 'autoglm chat --help' for the options." },
        { ["bench", "--model", "{model}", "--threads", "-1"], 2, $"autoglm bench: option '--threads' must be an integer from 0 to {4 * Environment.ProcessorCount}, not '-1'. Run 'autoglm bench --help' for the options." },
        { ["bench", "--model", "{model}", "--threads", "100000"], 2, $"autoglm bench: option '--threads' must be an integer from 0 to {4 * Environment.ProcessorCount}, not '100000'. Run 'autoglm bench --help' for the options." },
        { ["bench", "--model", "{model}", "--threads", "two"], 2, $"autoglm bench: option '--threads' must be an integer from 0 to {4 * Environment.ProcessorCount}, not 'two'. Run 'autoglm bench --help' for the options." },
        { ["bench", "--model", "{model}", "--concurrency", "1,x"], 2, "autoglm bench: option '--concurrency' must be a comma-separated list of integers from 1 to 256, like 1,4,8; 'x' is not one. Run 'autoglm bench --help' for the options." },
        { ["bench", "--model", "{model}", "--concurrency", "0"], 2, "autoglm bench: option '--concurrency' must be a comma-separated list of integers from 1 to 256, like 1,4,8; '0' is not one. Run 'autoglm bench --help' for the options." },
        { ["bench", "--trace", "--model", "{model}", "--warm-cold", "3"], 2, "autoglm bench: option '--warm-cold' compares a later turn with prefix reuse against the same prompt sent cold: add --prefix-reuse and use --max-turns 2 or more. Run 'autoglm bench --help' for the options." },
        { ["bench", "--trace", "--model", "{model}", "--queue-capacity", "0"], 2, "autoglm bench: option '--queue-capacity' must be an integer from 1 to 1000000, not '0'. Run 'autoglm bench --help' for the options." },
        { ["build", "--out", "{root}/m"], 2, "autoglm build: Option '--from' is required. Run 'autoglm build --help' for the options." },
        { ["build", "--from", "{root}/c", "--out", "{root}/m", "--precision", "int8"], 2, "autoglm build: option '--precision' must be one of fp32, fp16, int4, not 'int8'. Run 'autoglm build --help' for the options." },
        { ["build", "--from", "{root}/c", "--out", "{root}/m", "--block-size", "8"], 2, "autoglm build: option '--block-size' must be an integer from 16 to 4096, not '8'. Run 'autoglm build --help' for the options." },
        { ["random", "--preset", "huge", "--out", "{root}/c"], 2, "autoglm random: option '--preset' must be one of tiny, small, glm-edge-1.5b, glm-edge-4b, glm-4-9b, not 'huge'. Run 'autoglm random --help' for the options." },
        { ["random", "--seed", "-1", "--out", "{root}/c"], 2, "autoglm random: option '--seed' must be a non-negative integer, not '-1'. Run 'autoglm random --help' for the options." },
        { ["random", "--attention-bias", "maybe", "--out", "{root}/c"], 2, "autoglm random: option '--attention-bias' must be true or false, not 'maybe'. Run 'autoglm random --help' for the options." },
        { ["random", "--rotary-factor", "2", "--out", "{root}/c"], 2, "autoglm random: option '--rotary-factor' must be a number from 0 to 1, not '2'. Run 'autoglm random --help' for the options." },
        { ["random", "--arch", "llama", "--out", "{root}/c"], 2, "autoglm random: option '--arch' must be one of glm, glm4, chatglm, not 'llama'. Run 'autoglm random --help' for the options." },
        { ["tokenize", "--model", "{model}", "--tokenizer", "{model}/tokenizer.json", "--text", "hi"], 2, "autoglm tokenize: give only one of --model and --tokenizer. Run 'autoglm tokenize --help' for the options." },
        { ["tokenize", "--model", "{model}"], 2, "autoglm tokenize: give exactly one of --text and --file. Run 'autoglm tokenize --help' for the options." },
        { ["tokenize", "--text", "hi"], 2, "autoglm tokenize: --model or --tokenizer is required. Run 'autoglm tokenize --help' for the options." },
        { ["tokenize", "--model", "{model}", "--text", "1 2 x", "--decode"], 2, "autoglm tokenize: --decode expects token ids (a JSON array or numbers separated by spaces), but item 3 is 'x'. Run 'autoglm tokenize --help' for the options." },
        { ["generate", "--model", "--prompt", "hi"], 2, "autoglm generate: option '--model' needs a value, but the next argument is the option '--prompt'. Run 'autoglm generate --help' for the options." },
        { ["random", "--attention-bias", "--out", "{root}/c"], 2, "autoglm random: option '--attention-bias' needs a value, but the next argument is the option '--out'. Run 'autoglm random --help' for the options." },
        { ["doctor", "--jsn"], 2, "autoglm doctor: unknown option '--jsn' (did you mean '--json'?). Run 'autoglm doctor --help' for the options." },

        // The work fails (1): the input does not fit the model, or the model folder cannot be used.
        { ["generate", "--model", "{model}", "--prompt", "{huge}"], 1, "autoglm generate: The prompt has 30000 tokens but the model's context holds 256 (MaxSequenceLength), which leaves no room to generate; shorten the prompt to at most 255 tokens." },
        { ["generate", "--model", "{model}", "--prompt", "{huge}", "--json", "--verbose"], 1, "autoglm generate: The prompt has 30000 tokens but the model's context holds 256 (MaxSequenceLength), which leaves no room to generate; shorten the prompt to at most 255 tokens." },
        { ["chat", "--model", "{model}", "--system", "{huge}"], 0, "" },
        { ["generate", "--model", "{root}/no-such-model", "--prompt", "hi"], 1, "autoglm generate: The model folder '{root}/no-such-model' does not exist. Build one with 'autoglm build --from CHECKPOINT --out {root}/no-such-model' (or 'autoglm random' for a test model)." },
        { ["generate", "--model", "{bad:config}", "--prompt", "hi"], 1, "autoglm generate: {bad:config}/genai_config.json is not valid JSON (line 1, byte 2): 'n' is an invalid start of a property name. Expected a '\"'. LineNumber: 0 | BytePositionInLine: 1." },
        { ["generate", "--model", "{bad:onnx}", "--prompt", "hi"], 1, "autoglm generate: The ONNX model '{bad:onnx}/model.onnx' could not be loaded: [InvalidProtobuf] Load model from {bad:onnx}/model.onnx failed:Protobuf parsing failed. Check that the file is a complete ONNX model (rebuild it with 'autoglm build') and that its external data file sits beside it." },
        { ["generate", "--model", "{bad:context}", "--prompt", "hi"], 1, "autoglm generate: {bad:context}/genai_config.json: model.context_length is 1, which leaves no room for a prompt and a generated token; it must be at least 2. Rebuild the folder with 'autoglm build'." },
        { ["generate", "--model", "{bad:tokenizer}", "--prompt", "hi"], 1, "autoglm generate: The tokenizer file '{bad:tokenizer}/tokenizer.json' is not valid JSON at line 2, byte 1 of the line; it may be truncated or damaged. Download it again. (Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed. LineNumber: 1 | BytePositionInLine: 0.)" },
        { ["tokenize", "--model", "{model}", "--file", "{root}/no-such.txt"], 1, "autoglm tokenize: Could not find file '{root}/no-such.txt'. Check the path." },
        { ["build", "--from", "{root}/no-such-checkpoint", "--out", "{root}/m"], 1, "" },
        { ["chat", "--model", "{root}/no-such-model"], 1, "autoglm chat: The model folder '{root}/no-such-model' does not exist. Build one with 'autoglm build --from CHECKPOINT --out {root}/no-such-model' (or 'autoglm random' for a test model)." },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task BadInput_ExitsWithTheDocumentedCodeAndOneLineOnStderr(string[] arguments, int exitCode, string errorLine)
    {
        CliProcess.Result run = await CliProcess.RunAsync(arguments.Select(Expand), input: "/exit\n");

        Assert.True(run.ExitCode == exitCode, $"exit code {run.ExitCode}, expected {exitCode}; stderr: {Shorten(run.Errors)}");
        if (arguments.Contains("--verbose"))
        {
            // --verbose: the same line first, then the stack trace.
            Assert.Equal(Expand(errorLine), run.Errors.Split('\n')[0]);
            Assert.Contains("   at ", run.Errors, StringComparison.Ordinal);
            return;
        }

        string[] lines = run.ErrorLine.Split('\n');
        if (arguments is ["chat", ..] && exitCode != 0)
        {
            // chat says which model it loads before it loads it; the failure is still one line, the last.
            Assert.DoesNotContain(lines[..^1], l => l.StartsWith("autoglm", StringComparison.Ordinal));
            lines = lines[^1..];
        }

        if (exitCode == 0)
        {
            // chat prints its "Loading" and "Ready" lines on stderr.
            Assert.DoesNotContain(lines, l => l.StartsWith("autoglm", StringComparison.Ordinal));
        }
        else if (errorLine.Length == 0)
        {
            Assert.Single(lines);
            Assert.StartsWith($"autoglm {arguments[0]}: ", lines[0], StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(Expand(errorLine), Assert.Single(lines));
        }

        Assert.DoesNotContain("   at ", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Fatal error", run.Errors, StringComparison.Ordinal);
    }

    private string Expand(string text)
    {
        if (text.Contains("{bad:", StringComparison.Ordinal))
        {
            foreach (string kind in new[] { "config", "onnx", "context", "tokenizer" })
            {
                text = text.Replace($"{{bad:{kind}}}", DamagedModel(kind), StringComparison.Ordinal);
            }
        }

        return text
            .Replace("{model}", _fixture.ModelPath, StringComparison.Ordinal)
            .Replace("{root}", _fixture.Root, StringComparison.Ordinal)
            .Replace("{huge}", s_huge, StringComparison.Ordinal);
    }

    /// <summary>A copy of the tiny model with one file damaged, made once per run.</summary>
    private string DamagedModel(string kind)
    {
        string folder = Path.Combine(_fixture.Root, "damaged-" + kind);
        lock (s_gate)
        {
            if (Directory.Exists(folder))
            {
                return folder;
            }

            string staging = folder + ".tmp";
            Directory.CreateDirectory(staging);
            foreach (string file in Directory.GetFiles(_fixture.ModelPath))
            {
                File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
            }

            switch (kind)
            {
                case "config":
                    File.WriteAllText(Path.Combine(staging, "genai_config.json"), "{not json");
                    break;
                case "onnx":
                    File.WriteAllBytes(Path.Combine(staging, "model.onnx"), File.ReadAllBytes(Path.Combine(staging, "model.onnx"))[..1000]);
                    break;
                case "context":
                    string config = File.ReadAllText(Path.Combine(staging, "genai_config.json"));
                    Assert.Contains("\"context_length\": 256", config, StringComparison.Ordinal);
                    File.WriteAllText(Path.Combine(staging, "genai_config.json"), config.Replace("\"context_length\": 256", "\"context_length\": 1", StringComparison.Ordinal));
                    break;
                case "tokenizer":
                    File.WriteAllText(Path.Combine(staging, "tokenizer.json"), "{\"model\":\n");
                    break;
            }

            Directory.Move(staging, folder);
            return folder;
        }
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
