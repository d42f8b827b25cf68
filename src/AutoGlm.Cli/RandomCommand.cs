using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary><c>autoglm random</c>: writes a random-weight GLM checkpoint.</summary>
internal static class RandomCommand
{
    private static readonly string[] s_options =
    [
        "--preset", "--arch", "--seed", "--out", "--layers", "--hidden", "--heads", "--kv-heads", "--head-dim",
        "--intermediate", "--vocab", "--rotary-factor", "--attention-bias", "--tie-embeddings", "--max-positions",
    ];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            CommandLineArguments a = CommandLineArguments.Parse(args, s_options, []);
            string arch = a.Get("--arch") ?? "glm";
            var options = new RandomCheckpointOptions
            {
                Preset = a.Get("--preset") ?? "tiny",
                Architecture = arch switch
                {
                    "glm" => GlmArchitecture.Glm,
                    "glm4" => GlmArchitecture.Glm4,
                    "chatglm" => GlmArchitecture.ChatGlm,
                    _ => throw new ArgumentException($"Unknown --arch '{arch}'. Use glm, glm4 or chatglm."),
                },
                Seed = ulong.TryParse(a.Get("--seed") ?? "1", System.Globalization.CultureInfo.InvariantCulture, out ulong seed) ? seed : throw new ArgumentException($"--seed needs a non-negative integer, not '{a.Get("--seed")}'."),
                Layers = a.Int("--layers"),
                HiddenSize = a.Int("--hidden"),
                Heads = a.Int("--heads"),
                KvHeads = a.Int("--kv-heads"),
                HeadDim = a.Int("--head-dim"),
                IntermediateSize = a.Int("--intermediate"),
                VocabSize = a.Int("--vocab"),
                RotaryFactor = a.Double("--rotary-factor"),
                AttentionBias = a.Bool("--attention-bias"),
                TieWordEmbeddings = a.Bool("--tie-embeddings"),
                MaxPositions = a.Int("--max-positions"),
            };
            string output = a.Required("--out");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await RandomCheckpoint.WriteAsync(options, output, cancellationToken).ConfigureAwait(false);
            Console.Error.WriteLine($"autoglm random: wrote {options.Preset} ({arch}, seed {options.Seed}) to {Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("autoglm random: cancelled; nothing was left behind");
            return 130;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or AutoGlmException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"autoglm random: {ex.Message}");
            return 1;
        }
    }
}
