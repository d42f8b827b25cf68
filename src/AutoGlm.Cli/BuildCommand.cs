using System.Diagnostics;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary><c>autoglm build</c>: converts a GLM checkpoint into an ONNX model folder, showing progress.</summary>
internal static class BuildCommand
{
    private static readonly string[] s_options = ["--from", "--out", "--precision", "--block-size", "--max-length", "--int4-lm-head", "--int4-embedding"];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            CommandLineArguments a = CommandLineArguments.Parse(args, s_options, []);
            string precision = a.Get("--precision") ?? "fp32";
            var options = new ModelBuildOptions
            {
                Precision = precision switch
                {
                    "fp32" => ModelPrecision.Fp32,
                    "fp16" => ModelPrecision.Fp16,
                    "int4" => ModelPrecision.Int4,
                    _ => throw new ArgumentException($"Unknown --precision '{precision}'. Use fp32, fp16 or int4."),
                },
                Int4BlockSize = a.Int("--block-size") ?? 32,
                MaxSequenceLength = a.Int("--max-length"),
                QuantizeLmHead = a.Bool("--int4-lm-head") ?? true,
                QuantizeEmbedding = a.Bool("--int4-embedding") ?? false,
            };
            string from = a.Required("--from");
            string output = a.Required("--out");
            var reporter = new BuildProgressPrinter();
            var clock = Stopwatch.StartNew();
            await GlmModelBuilder.BuildAsync(from, output, options, reporter, cancellationToken).ConfigureAwait(false);
            reporter.Finish();
            using Process self = Process.GetCurrentProcess();
            Console.Error.WriteLine($"autoglm build: wrote {Path.GetFullPath(output)} ({precision}) in {clock.Elapsed.TotalSeconds:F1} s; peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("autoglm build: cancelled; the partial output was deleted");
            return 130;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or AutoGlmException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"autoglm build: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Prints at most a few progress lines per second (tensors, bytes, rate) on stderr.</summary>
    private sealed class BuildProgressPrinter : IProgress<ModelBuildProgress>
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
        private ModelBuildProgress _last;

        public void Report(ModelBuildProgress value)
        {
            _last = value;
            if (_sinceLast.ElapsedMilliseconds >= 250)
            {
                _sinceLast.Restart();
                Print(value);
            }
        }

        public void Finish() => Print(_last);

        private static void Print(ModelBuildProgress p)
        {
            double mib = 1024.0 * 1024;
            string line = $"\rtensors {p.TensorsDone}/{p.TensorsTotal}  read {p.BytesRead / mib:F0}/{p.BytesTotal / mib:F0} MiB  {p.BytesPerSecond / mib:F0} MiB/s  {p.Elapsed.TotalSeconds:F1} s";
            if (Console.IsErrorRedirected)
            {
                Console.Error.WriteLine(line.TrimStart('\r'));
            }
            else
            {
                Console.Error.Write(line.PadRight(100));
            }
        }
    }
}
