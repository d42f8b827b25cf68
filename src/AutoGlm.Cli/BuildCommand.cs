using System.CommandLine;
using System.Diagnostics;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary><c>autoglm build</c>: converts a GLM checkpoint into an ONNX model folder, showing progress; Ctrl+C deletes the partial output.</summary>
internal static class BuildCommand
{
    public static Command Create()
    {
        Option<string> from = CliOptions.Text("--from", "The checkpoint folder (safetensors + config.json, Hugging Face layout).", "CHECKPOINT", required: true, emptyHint: "give the checkpoint folder");
        Option<string> output = CliOptions.Text("--out", "The model folder to write.", "MODEL", required: true, emptyHint: "give the folder to write");
        Option<string> precision = CliOptions.Choice("--precision", "Weight precision of the model.", "fp32", "fp32", "fp16", "int4");
        Option<int> blockSize = CliOptions.Int("--block-size", "int4 quantization block size.", 32, 16, 4096);
        Option<int> int4AccuracyLevel = CliOptions.Int("--int4-accuracy-level", "MatMulNBits accuracy_level for int4 (0 fp32 compute … 4 int8 compute).", ModelBuildOptions.DefaultInt4AccuracyLevel, 0, 4);
        Option<int?> maxLength = CliOptions.OptionalInt("--max-length", "The context length written to genai_config.json (default: the checkpoint's).", 1, int.MaxValue);
        Option<string> int4LmHead = CliOptions.OptionalBool("--int4-lm-head", "Quantize the LM head too with int4 (default true).");
        Option<string> int4Embedding = CliOptions.OptionalBool("--int4-embedding", "Quantize the embedding too with int4 (default false).");

        var command = new Command("build", "Convert a GLM checkpoint into an ONNX model folder.") { from, output, precision, blockSize, int4AccuracyLevel, maxLength, int4LmHead, int4Embedding };
        command.SetAction((parse, cancellationToken) =>
        {
            string precisionName = parse.GetValue(precision)!;
            var options = new ModelBuildOptions
            {
                Precision = precisionName switch
                {
                    "fp16" => ModelPrecision.Fp16,
                    "int4" => ModelPrecision.Int4,
                    _ => ModelPrecision.Fp32,
                },
                Int4BlockSize = parse.GetValue(blockSize),
                Int4AccuracyLevel = parse.GetValue(int4AccuracyLevel),
                MaxSequenceLength = parse.GetValue(maxLength),
                QuantizeLmHead = parse.GetBool(int4LmHead) ?? true,
                QuantizeEmbedding = parse.GetBool(int4Embedding) ?? false,
            };
            return RunAsync(parse.GetValue(from)!, parse.GetValue(output)!, precisionName, options, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string from, string output, string precision, ModelBuildOptions options, CancellationToken cancellationToken)
    {
        var printer = new ProgressPrinter("read");
        var clock = Stopwatch.StartNew();
        try
        {
            await GlmModelBuilder.BuildAsync(from, output, options, printer, cancellationToken).ConfigureAwait(false);
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
        using Process self = Process.GetCurrentProcess();
        Console.Error.WriteLine($"autoglm build: wrote {Path.GetFullPath(output)} ({precision}) in {clock.Elapsed.TotalSeconds:F1} s; peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
        return ExitCodes.Ok;
    }
}
