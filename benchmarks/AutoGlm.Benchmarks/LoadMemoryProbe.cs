using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Resident memory of a loaded model, mapped weights against weights read into memory: each measurement runs
/// in a fresh child process (<c>--load-probe FOLDER true|false</c>), which loads the model, generates 16 tokens
/// (so every weight has been touched) and reports <c>/proc/self/status</c>. <c>--load-memory [OUT.md]</c> runs
/// three children per configuration and writes a markdown table of the medians.
/// </summary>
internal static class LoadMemoryProbe
{
    private const int Runs = 3;

    /// <summary>The child: load, generate, report one line of <c>key=value</c> pairs.</summary>
    public static int Probe(string folder, bool map)
    {
        ProcessMemory before = ProcessMemory.Read();
        long started = Stopwatch.GetTimestamp();
        using GlmModel model = GlmModel.Load(folder, new GlmModelOptions { WeightLoading = map ? WeightLoading.Mapped : WeightLoading.Packed, WarmUp = false, MaxBatchSize = 1 });
        double loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        ProcessMemory loaded = ProcessMemory.Read();
        model.GenerateAsync([1, 2, 3, 4], new GenerationOptions { Temperature = 0f, MaxNewTokens = 16, IgnoreEos = true }).GetAwaiter().GetResult();
        ProcessMemory generated = ProcessMemory.Read();

        // Decode speed once warm: 64 tokens after a 4-token prompt, time per generated token.
        long decodeStart = Stopwatch.GetTimestamp();
        model.GenerateAsync([1, 2, 3, 4], new GenerationOptions { Temperature = 0f, MaxNewTokens = 64, IgnoreEos = true }).GetAwaiter().GetResult();
        double msPerToken = Stopwatch.GetElapsedTime(decodeStart).TotalMilliseconds / 64;
        Console.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"load_ms={loadMs:F1} baseline_rss_kib={before.VmRssKiB} loaded_rss_kib={loaded.VmRssKiB} rss_kib={generated.VmRssKiB} hwm_kib={generated.VmHwmKiB} anon_kib={generated.RssAnonKiB} file_kib={generated.RssFileKiB} ms_per_token={msPerToken:F2}"));
        return 0;
    }

    /// <summary>The parent: runs the children and writes the report.</summary>
    public static int Report(string? outputPath)
    {
        var table = new StringBuilder();
        table.AppendLine("# Weight loading: Packed vs Mapped (load time, resident memory, decode speed)");
        table.AppendLine();
        table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Each row: median of {Runs} fresh processes that load the `small` preset (`GlmModel.Load`, no warm-up), then generate 16 tokens so every weight is touched; `/proc/self/status` read after generation; then 64 more greedy tokens timed (ms per token, batch 1). Weights file in the page cache (warm). {Environment.ProcessorCount} logical cores; load average at the start: {File.ReadAllText("/proc/loadavg").Trim()}."));
        table.AppendLine();
        table.AppendLine("| Precision | WeightLoading | weights file MiB | Load ms | RSS after load MiB | RSS MiB | Peak RSS (VmHWM) MiB | RssAnon MiB | RssFile MiB | decode ms/token |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (ModelPrecision precision in new[] { ModelPrecision.Fp32, ModelPrecision.Int4 })
        {
            string folder = BenchmarkModels.Ensure("small", precision);
            double weightsMiB = new FileInfo(Path.Combine(folder, "model.onnx.data")).Length / (1024.0 * 1024.0);
            foreach (bool map in new[] { false, true })
            {
                if (map && precision == ModelPrecision.Int4)
                {
                    table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {precision} | Mapped | {weightsMiB:F0} | refused: int4 MatMulNBits needs pre-packing | | | | | | |"));
                    continue;
                }

                var runs = new List<Dictionary<string, double>>();
                for (int i = 0; i < Runs; i++)
                {
                    runs.Add(RunChild(folder, map));
                }

                double Median(string key) => runs.Select(r => r[key]).Order().ElementAt(Runs / 2);
                double MiB(string key) => Median(key) / 1024.0;
                table.AppendLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {precision} | {(map ? "Mapped" : "Packed")} | {weightsMiB:F0} | {Median("load_ms"):F0} | {MiB("loaded_rss_kib"):F0} | {MiB("rss_kib"):F0} | {MiB("hwm_kib"):F0} | {MiB("anon_kib"):F0} | {MiB("file_kib"):F0} | {Median("ms_per_token"):F2} |"));
            }
        }

        Console.Out.Write(table.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, table.ToString());
        }

        return 0;
    }

    private static Dictionary<string, double> RunChild(string folder, bool map)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LoadMemoryProbe).Assembly.Location);
        }

        start.ArgumentList.Add("--load-probe");
        start.ArgumentList.Add(folder);
        start.ArgumentList.Add(map ? "true" : "false");
        using Process child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        string error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The load probe for '{folder}' (mapped: {map}) exited with {child.ExitCode}: {error}");
        }

        string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        return line.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
    }
}
