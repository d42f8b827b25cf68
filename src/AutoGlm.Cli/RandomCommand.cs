using System.CommandLine;
using System.Diagnostics;
using AutoGlm.ModelBuilder;
using AutoGlm.ModelBuilder.Random;

namespace AutoGlm.Cli;

/// <summary><c>autoglm random</c>: writes a random-weight GLM checkpoint, showing progress; Ctrl+C deletes the partial output.</summary>
internal static class RandomCommand
{
    public static Command Create()
    {
        Option<string> preset = CliOptions.Choice("--preset", "Shape preset.", "tiny", [.. RandomCheckpointPreset.All.Select(p => p.Name)]);
        Option<string> arch = CliOptions.Choice("--arch", "Checkpoint layout: glm (GLM-Edge), glm4 (GLM-4-0414) or chatglm (GLM-4-9B-chat, ChatGLM3).", "glm", "glm", "glm4", "chatglm");
        Option<ulong> seed = CliOptions.UInt64("--seed", "Random seed; the same seed writes the same bytes.", 1);
        Option<string> output = CliOptions.Text("--out", "The checkpoint folder to write.", "DIR", required: true, emptyHint: "give the folder to write");
        Option<int?> layers = CliOptions.OptionalInt("--layers", "Override the preset's number of layers.", 1, int.MaxValue);
        Option<int?> hidden = CliOptions.OptionalInt("--hidden", "Override the hidden size.", 1, int.MaxValue);
        Option<int?> heads = CliOptions.OptionalInt("--heads", "Override the number of attention heads.", 1, int.MaxValue);
        Option<int?> kvHeads = CliOptions.OptionalInt("--kv-heads", "Override the number of key/value heads.", 1, int.MaxValue);
        Option<int?> headDim = CliOptions.OptionalInt("--head-dim", "Override the head dimension.", 1, int.MaxValue);
        Option<int?> intermediate = CliOptions.OptionalInt("--intermediate", "Override the MLP intermediate size.", 1, int.MaxValue);
        Option<int?> vocab = CliOptions.OptionalInt("--vocab", "Override the vocabulary size.", 1, int.MaxValue);
        Option<double?> rotaryFactor = CliOptions.OptionalDouble("--rotary-factor", "Override the fraction of each head that is rotated (0 to 1).", 0, 1);
        Option<string> attentionBias = CliOptions.OptionalBool("--attention-bias", "Override whether q/k/v projections have a bias.");
        Option<string> tieEmbeddings = CliOptions.OptionalBool("--tie-embeddings", "Override whether the LM head shares the embedding.");
        Option<int?> maxPositions = CliOptions.OptionalInt("--max-positions", "Override the context length written to config.json.", 1, int.MaxValue);
        Option<double?> initStd = CliOptions.OptionalDouble("--init-std", "Standard deviation of the random weights (default 0.02).", 1e-6, 9.99);
        Option<string> dtype = CliOptions.Choice("--dtype", "Weight type in model.safetensors.", "F32", "F32", "F16", "BF16");

        var command = new Command("random", "Write a random-weight GLM checkpoint (Hugging Face layout) for tests and benchmarks.")
        {
            preset, arch, seed, output, layers, hidden, heads, kvHeads, headDim, intermediate, vocab, rotaryFactor, attentionBias, tieEmbeddings, maxPositions, initStd, dtype,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string architecture = parse.GetValue(arch)!;
            var options = new RandomCheckpointOptions
            {
                Preset = parse.GetValue(preset)!,
                Architecture = architecture switch
                {
                    "glm4" => GlmArchitecture.Glm4,
                    "chatglm" => GlmArchitecture.ChatGlm,
                    _ => GlmArchitecture.Glm,
                },
                Seed = parse.GetValue(seed),
                Layers = parse.GetValue(layers),
                HiddenSize = parse.GetValue(hidden),
                Heads = parse.GetValue(heads),
                KvHeads = parse.GetValue(kvHeads),
                HeadDim = parse.GetValue(headDim),
                IntermediateSize = parse.GetValue(intermediate),
                VocabSize = parse.GetValue(vocab),
                RotaryFactor = parse.GetValue(rotaryFactor),
                AttentionBias = parse.GetBool(attentionBias),
                TieWordEmbeddings = parse.GetBool(tieEmbeddings),
                MaxPositions = parse.GetValue(maxPositions),
                InitializerRange = parse.GetValue(initStd) ?? 0.02,
                WeightDType = parse.GetValue(dtype)!,
            };
            return RunAsync(options, architecture, parse.GetValue(output)!, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(RandomCheckpointOptions options, string architecture, string output, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var printer = new ProgressPrinter("written");
        try
        {
            await RandomCheckpoint.WriteAsync(options, output, printer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            printer.EndLine();
            throw new CommandCancelledException("the partial output was deleted");
        }
        catch
        {
            printer.EndLine();
            throw;
        }

        printer.Finish();
        Console.Error.WriteLine($"autoglm random: wrote preset {options.Preset} ({architecture}, seed {options.Seed}) to {Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:F1} s");
        return ExitCodes.Ok;
    }
}
