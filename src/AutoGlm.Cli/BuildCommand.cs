using System.Diagnostics;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary><c>autoglm build</c>: converts a GLM checkpoint into an ONNX model folder, showing progress; Ctrl+C deletes the partial output.</summary>
internal static class BuildCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = new CommandLine(args);
        string precision = a.Get("precision") ?? "fp32";
        var options = new ModelBuildOptions
        {
            Precision = precision switch
            {
                "fp32" => ModelPrecision.Fp32,
                "fp16" => ModelPrecision.Fp16,
                "int4" => ModelPrecision.Int4,
                _ => throw new CommandLineException($"unknown --precision '{precision}'; use fp32, fp16 or int4."),
            },
            Int4BlockSize = a.GetInt("block-size", 32, 16, 4096),
            Int4AccuracyLevel = a.GetInt("int4-accuracy-level", ModelBuildOptions.DefaultInt4AccuracyLevel, 0, 4),
            MaxSequenceLength = RandomCommand.OptionalInt(a, "max-length"),
            QuantizeLmHead = RandomCommand.OptionalBool(a, "int4-lm-head") ?? true,
            QuantizeEmbedding = RandomCommand.OptionalBool(a, "int4-embedding") ?? false,
        };
        string from = a.Require("from");
        string output = a.Require("out");
        a.ThrowOnUnknown();
        var printer = new ProgressPrinter("read");
        var clock = Stopwatch.StartNew();
        try
        {
            await GlmModelBuilder.BuildAsync(from, output, options, printer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            printer.EndLine();
            Console.Error.WriteLine("autoglm build: cancelled; the partial output was deleted");
            return 130;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException or AutoGlmException)
        {
            printer.EndLine();
            Console.Error.WriteLine($"autoglm build: {ex.Message}");
            return 1;
        }

        printer.Finish();
        using Process self = Process.GetCurrentProcess();
        Console.Error.WriteLine($"autoglm build: wrote {Path.GetFullPath(output)} ({precision}) in {clock.Elapsed.TotalSeconds:F1} s; peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
        return 0;
    }
}
