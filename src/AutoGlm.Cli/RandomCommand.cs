using System.Diagnostics;
using System.Globalization;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary><c>autoglm random</c>: writes a random-weight GLM checkpoint.</summary>
internal static class RandomCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = new CommandLine(args);
        string arch = a.Get("arch") ?? "glm";
        string seedText = a.Get("seed") ?? "1";
        var options = new RandomCheckpointOptions
        {
            Preset = a.Get("preset") ?? "tiny",
            Architecture = arch switch
            {
                "glm" => GlmArchitecture.Glm,
                "glm4" => GlmArchitecture.Glm4,
                "chatglm" => GlmArchitecture.ChatGlm,
                _ => throw new CommandLineException($"unknown --arch '{arch}'; use glm, glm4 or chatglm."),
            },
            Seed = ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed) ? seed : throw new CommandLineException($"option '--seed' must be a non-negative integer, not '{seedText}'."),
            Layers = OptionalInt(a, "layers"),
            HiddenSize = OptionalInt(a, "hidden"),
            Heads = OptionalInt(a, "heads"),
            KvHeads = OptionalInt(a, "kv-heads"),
            HeadDim = OptionalInt(a, "head-dim"),
            IntermediateSize = OptionalInt(a, "intermediate"),
            VocabSize = OptionalInt(a, "vocab"),
            RotaryFactor = a.Has("rotary-factor") ? a.GetDouble("rotary-factor", 0.5, 0.0, 1.0) : null,
            AttentionBias = OptionalBool(a, "attention-bias"),
            TieWordEmbeddings = OptionalBool(a, "tie-embeddings"),
            MaxPositions = OptionalInt(a, "max-positions"),
            InitializerRange = a.GetDouble("init-std", 0.02, 1e-6, 9.99),
            WeightDType = a.Get("dtype") ?? "F32",
        };
        string output = a.Require("out");
        a.ThrowOnUnknown();
        var clock = Stopwatch.StartNew();
        var printer = new ProgressPrinter("written");
        try
        {
            await RandomCheckpoint.WriteAsync(options, output, printer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            printer.EndLine();
            Console.Error.WriteLine("autoglm random: cancelled; the partial output was deleted");
            return 130;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
        {
            printer.EndLine();
            Console.Error.WriteLine($"autoglm random: {ex.Message}");
            return 1;
        }

        printer.Finish();

        Console.Error.WriteLine($"autoglm random: wrote preset {options.Preset} ({arch}, seed {options.Seed}) to {Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    internal static int? OptionalInt(CommandLine a, string name) => a.Has(name) ? a.GetInt(name, 0, 1) : null;

    internal static bool? OptionalBool(CommandLine a, string name) => a.Get(name) switch
    {
        null => null,
        "true" => true,
        "false" => false,
        string other => throw new CommandLineException($"option '--{name}' must be true or false, not '{other}'."),
    };
}
