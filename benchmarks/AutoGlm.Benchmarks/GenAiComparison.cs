using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--vs-genai [OUT.md] [rounds]</c>: AutoGlm against ONNX Runtime GenAI 0.18 (the engine a .NET user would
/// otherwise pick) in one process, on one model folder and one ONNX Runtime, with the same intra-op thread count.
/// Every round runs each contender once, in turn, so load from other processes hits them alike; the report gives
/// medians over the rounds (round 0 is the cold run and is reported apart: it shows the warm-up tax).
/// </summary>
/// <remarks>
/// Measured per contender: batch-1 decode tokens/s (tokens after the first ÷ the time after the first), time to first
/// token, and the inter-token times (p50/p95/p99) as a streaming caller sees them; 8 concurrent requests (AutoGlm's
/// continuous batching vs 8 ORT GenAI generators on 8 tasks, and ORT GenAI's static <c>batch_size</c> 8 as the ideal);
/// resident memory after each contender's load and the process peak.
/// <para>
/// Environment: <c>AUTOGLM_BENCH_ABLATION="key=value;…"</c> adds a third single-stream contender, AutoGlm loaded with
/// those ONNX Runtime session config entries (<see cref="GlmModelOptions.OnnxRuntimeSessionConfig"/>), taking turns
/// with the other two — to measure one setting against the default in the same run.
/// <c>AUTOGLM_BENCH_SINGLE_ONLY=1</c> skips the concurrent runs.
/// </para>
/// </remarks>
internal static class GenAiComparison
{
    internal const int Threads = 2;
    private const int PromptTokens = 64;
    private const int NewTokens = 128;
    private const int ConcurrentNewTokens = 32;
    private const int Concurrency = 8;

    public static int Report(string? outputPath, int rounds)
    {
        var report = new StringBuilder();
        report.AppendLine("# AutoGlm vs ONNX Runtime GenAI 0.18 (C#), contenders in turns");
        report.AppendLine();
        report.AppendLine(Invariant($"`small` preset (random weights, seed 1, `benchmarks/AutoGlm.Benchmarks/BenchmarkModels.cs`), CPU, {Environment.ProcessorCount} logical cores, {Threads} intra-op threads for both, ONNX Runtime {OrtVersion()}, .NET {Environment.Version}, tiered compilation {TieredCompilation()}. One process; every round runs each contender once, in turn; medians over {rounds} rounds after a cold round 0 (reported apart). Greedy; EOS ignored (AutoGlm `IgnoreEos`, ORT GenAI `min_length` = `max_length`)."));
        report.AppendLine();
        report.AppendLine(Invariant($"Load average (1/5/15 min) at start: **{LoadAverage()}**."));
        foreach (ModelPrecision precision in new[] { ModelPrecision.Fp32, ModelPrecision.Int4 })
        {
            string folder = BenchmarkModels.Ensure("small", precision);
            RunPrecision(report, precision, folder, rounds);
            Console.Out.Write(report.ToString());
        }

        report.AppendLine();
        report.AppendLine(Invariant($"Load average at end: **{LoadAverage()}**. Process peak resident memory (VmHWM): {ProcessMemory.Read().VmHwmKiB / 1024} MiB."));
        Console.Out.WriteLine();
        Console.Out.WriteLine(report.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, report.ToString());
        }

        return 0;
    }

    private static void RunPrecision(StringBuilder report, ModelPrecision precision, string folder, int rounds)
    {
        int vocabulary = Models.ModelFolder.Read(folder).VocabularySize;
        int[] prompt = BenchmarkPrompts.Create(vocabulary, PromptTokens, 0);
        int[][] prompts = [.. Enumerable.Range(0, Concurrency).Select(r => BenchmarkPrompts.Create(vocabulary, PromptTokens, r))];

        long rssStart = ProcessMemory.Read().VmRssKiB;
        using GlmModel ours = GlmModel.Load(folder, new GlmModelOptions { IntraOpThreads = Threads, MaxBatchSize = Concurrency, MaxSequenceLength = PromptTokens + NewTokens + 1 });
        long rssOurs = ProcessMemory.Read().VmRssKiB;
        IReadOnlyDictionary<string, string>? ablation = ParseAblation(Environment.GetEnvironmentVariable("AUTOGLM_BENCH_ABLATION"));
        using GlmModel? ablated = ablation is null ? null : GlmModel.Load(folder, new GlmModelOptions
        {
            IntraOpThreads = Threads,
            MaxBatchSize = Concurrency,
            MaxSequenceLength = PromptTokens + NewTokens + 1,
            OnnxRuntimeSessionConfig = ablation,
        });
        string ablatedName = ablation is null ? "" : "AutoGlm with " + string.Join(", ", ablation.Select(e => $"`{e.Key}={e.Value}`"));
        bool concurrentRuns = Environment.GetEnvironmentVariable("AUTOGLM_BENCH_SINGLE_ONLY") is not "1";
        using GenAi.Model theirs = OpenGenAi(folder);
        long rssTheirs = ProcessMemory.Read().VmRssKiB;

        var single = new Dictionary<string, List<StreamStats>> { ["AutoGlm"] = [], ["ORT GenAI"] = [] };
        if (ablated is not null)
        {
            single[ablatedName] = [];
        }

        var cold = new Dictionary<string, StreamStats>();
        var concurrent = new Dictionary<string, List<StreamStats>>
        {
            ["AutoGlm, 8 requests (continuous batching)"] = [],
            ["ORT GenAI, 8 Generators on 8 tasks"] = [],
            ["ORT GenAI, static batch_size 8 (ideal)"] = [],
        };

        for (int round = 0; round <= rounds; round++)
        {
            // Rotate which contender goes first, so none always follows another's spinning threads.
            int contenders = ablated is null ? 2 : 3;
            for (int turn = 0; turn < contenders; turn++)
            {
                int which = (round + turn) % contenders;
                Pause();
                (string name, StreamStats stats) = which switch
                {
                    0 => ("AutoGlm", StreamAutoGlm(ours, prompt, NewTokens)),
                    1 => ("ORT GenAI", StreamGenAi(theirs, prompt, NewTokens)),
                    _ => (ablatedName, StreamAutoGlm(ablated!, prompt, NewTokens)),
                };
                if (round == 0)
                {
                    cold[name] = stats;
                }
                else
                {
                    single[name].Add(stats);
                }
            }

            int first = round % 3;
            for (int turn = 0; turn < (concurrentRuns ? 3 : 0); turn++)
            {
                int which = (first + turn) % 3;
                Pause();
                StreamStats stats = which switch
                {
                    0 => ConcurrentAutoGlm(ours, prompts, ConcurrentNewTokens),
                    1 => ConcurrentGenAi(theirs, prompts, ConcurrentNewTokens),
                    _ => StaticBatchGenAi(theirs, prompts, ConcurrentNewTokens),
                };
                if (round > 0)
                {
                    concurrent.ElementAt(which).Value.Add(stats);
                }
            }

            Console.Error.WriteLine(Invariant($"{precision} round {round} done (load {LoadAverage()})"));
        }

        double reference = Median(single["ORT GenAI"], s => s.DecodeTokensPerSecond);
        double referenceTtft = Median(single["ORT GenAI"], s => s.TimeToFirstTokenMs);
        report.AppendLine();
        report.AppendLine(Invariant($"## {precision}: one stream, {PromptTokens}-token prompt + {NewTokens} new tokens"));
        report.AppendLine();
        report.AppendLine("| Contender | Decode tok/s | × ORT GenAI | TTFT ms | TTFT × ORT GenAI | ITL p50 ms | p95 ms | p99 ms | p95/p50 | Tokens |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, List<StreamStats> runs) in single)
        {
            double tps = Median(runs, s => s.DecodeTokensPerSecond);
            double ttft = Median(runs, s => s.TimeToFirstTokenMs);
            double p50 = Median(runs, s => s.ItlP50Ms);
            double p95 = Median(runs, s => s.ItlP95Ms);
            report.AppendLine(Invariant($"| {name} | {tps:F1} | {tps / reference:F2} | {ttft:F1} | {ttft / referenceTtft:F2} | {p50:F2} | {p95:F2} | {Median(runs, s => s.ItlP99Ms):F2} | {p95 / p50:F2} | {runs[0].Tokens} |"));
        }

        report.AppendLine();
        report.AppendLine("Cold round 0 (the first request after load; AutoGlm's `Load` runs its warm-up — the model-free managed path, then a 2-token request —, ORT GenAI none):");
        report.AppendLine();
        report.AppendLine("| Contender | Decode tok/s | TTFT ms | ITL p50 ms | p95 ms | p99 ms | p95/p50 |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, StreamStats s) in cold.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            report.AppendLine(Invariant($"| {name} | {s.DecodeTokensPerSecond:F1} | {s.TimeToFirstTokenMs:F1} | {s.ItlP50Ms:F2} | {s.ItlP95Ms:F2} | {s.ItlP99Ms:F2} | {s.ItlP95Ms / s.ItlP50Ms:F2} |"));
        }

        if (!concurrentRuns)
        {
            report.AppendLine();
            report.AppendLine(Invariant($"Concurrent runs skipped (AUTOGLM_BENCH_SINGLE_ONLY=1). Load average now: {LoadAverage()}."));
            return;
        }

        double concurrentReference = Median(concurrent.ElementAt(1).Value, s => s.AggregateTokensPerSecond);
        report.AppendLine();
        report.AppendLine(Invariant($"## {precision}: {Concurrency} requests at once, {PromptTokens}-token prompts + {ConcurrentNewTokens} new tokens each"));
        report.AppendLine();
        report.AppendLine("Aggregate tok/s = all generated tokens ÷ wall time from submitting the first request to the last token (prefill included). TTFT and ITL over all requests of the run.");
        report.AppendLine();
        report.AppendLine("| Contender | Aggregate tok/s | × 8 ORT GenAI Generators | TTFT p50 ms | TTFT max ms | ITL p50 ms | p95 ms | p99 ms |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, List<StreamStats> runs) in concurrent)
        {
            double tps = Median(runs, s => s.AggregateTokensPerSecond);
            report.AppendLine(Invariant($"| {name} | {tps:F1} | {tps / concurrentReference:F2} | {Median(runs, s => s.TimeToFirstTokenMs):F1} | {Median(runs, s => s.TimeToFirstTokenMaxMs):F1} | {Median(runs, s => s.ItlP50Ms):F2} | {Median(runs, s => s.ItlP95Ms):F2} | {Median(runs, s => s.ItlP99Ms):F2} |"));
        }

        report.AppendLine();
        report.AppendLine(Invariant($"Resident memory (VmRSS) of this process: {rssStart / 1024} MiB before loading; +{(rssOurs - rssStart) / 1024} MiB for AutoGlm's `GlmModel.Load` (incl. warm-up); +{(rssTheirs - rssOurs) / 1024} MiB for ORT GenAI's `Model`; {ProcessMemory.Read().VmRssKiB / 1024} MiB after the runs; peak so far (VmHWM) {ProcessMemory.Read().VmHwmKiB / 1024} MiB. AutoGlm's KV bytes held now: {ours.KvBytesAllocated / 1024} KiB. Load average now: {LoadAverage()}."));
    }

    private static Dictionary<string, string>? ParseAblation(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"AUTOGLM_BENCH_ABLATION: '{pair}' is not key=value.");
            }

            entries[pair[..equals]] = pair[(equals + 1)..];
        }

        return entries;
    }

    /// <summary>ORT GenAI's model for <paramref name="folder"/> with the same intra-op threads AutoGlm gets.</summary>
    internal static GenAi.Model OpenGenAi(string folder)
    {
        using var config = new GenAi.Config(folder);
        config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + Threads.ToString(CultureInfo.InvariantCulture) + ",\"inter_op_num_threads\":1}}}}");
        return new GenAi.Model(config);
    }

    internal static StreamStats StreamAutoGlm(GlmModel model, int[] prompt, int newTokens)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = newTokens, IgnoreEos = true };
        var stamps = new long[newTokens];
        int count = 0;
        long started = Stopwatch.GetTimestamp();
        Task.Run(async () =>
        {
            await foreach (GeneratedToken _ in model.GenerateStreamingAsync(prompt, options).ConfigureAwait(false))
            {
                stamps[count++] = Stopwatch.GetTimestamp();
            }
        }).GetAwaiter().GetResult();
        return StreamStats.FromStreams(started, [stamps[..count]]);
    }

    internal static StreamStats StreamGenAi(GenAi.Model model, int[] prompt, int newTokens)
    {
        long started = Stopwatch.GetTimestamp();
        long[] stamps = GenAiStream(model, prompt, newTokens);
        return StreamStats.FromStreams(started, [stamps]);
    }

    /// <summary>One request as a C# user writes it with ORT GenAI: params, generator, append the prompt, then next token until done.</summary>
    private static long[] GenAiStream(GenAi.Model model, int[] prompt, int newTokens)
    {
        int maxLength = prompt.Length + newTokens;
        using var parameters = new GenAi.GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("min_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new GenAi.Generator(model, parameters);
        generator.AppendTokens(prompt);
        var stamps = new long[newTokens];
        int count = 0;
        while (!generator.IsDone() && count < newTokens)
        {
            generator.GenerateNextToken();
            _ = generator.GetNextTokens()[0];
            stamps[count++] = Stopwatch.GetTimestamp();
        }

        return stamps[..count];
    }

    private static StreamStats ConcurrentAutoGlm(GlmModel model, int[][] prompts, int newTokens)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = newTokens, IgnoreEos = true };
        long started = Stopwatch.GetTimestamp();
        Task<long[]>[] requests = [.. prompts.Select(p => Task.Run(async () =>
        {
            var stamps = new long[newTokens];
            int count = 0;
            await foreach (GeneratedToken _ in model.GenerateStreamingAsync(p, options).ConfigureAwait(false))
            {
                stamps[count++] = Stopwatch.GetTimestamp();
            }

            return stamps[..count];
        }))];
        Task.WaitAll(requests);
        return StreamStats.FromStreams(started, [.. requests.Select(r => r.Result)]);
    }

    private static StreamStats ConcurrentGenAi(GenAi.Model model, int[][] prompts, int newTokens)
    {
        long started = Stopwatch.GetTimestamp();
        Task<long[]>[] requests = [.. prompts.Select(p => Task.Factory.StartNew(() => GenAiStream(model, p, newTokens), TaskCreationOptions.LongRunning))];
        Task.WaitAll(requests);
        return StreamStats.FromStreams(started, [.. requests.Select(r => r.Result)]);
    }

    private static StreamStats StaticBatchGenAi(GenAi.Model model, int[][] prompts, int newTokens)
    {
        int maxLength = prompts[0].Length + newTokens;
        long started = Stopwatch.GetTimestamp();
        using var parameters = new GenAi.GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("min_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("batch_size", prompts.Length);
        using var generator = new GenAi.Generator(model, parameters);

        // Equal-length prompts, concatenated: the C# API builds Sequences only from its tokenizer.
        generator.AppendTokens([.. prompts.SelectMany(p => p)]);
        var stamps = new long[newTokens];
        int count = 0;
        while (!generator.IsDone() && count < newTokens)
        {
            generator.GenerateNextToken();
            _ = generator.GetNextTokens()[prompts.Length - 1];
            stamps[count++] = Stopwatch.GetTimestamp();
        }

        // Every row's token arrives at the same moment.
        return StreamStats.FromStreams(started, [.. prompts.Select(_ => stamps[..count])]);
    }

    private static void Pause() =>
        // Lets the previous contender's spinning intra-op threads go to sleep.
        Thread.Sleep(50);

    internal static double Median<T>(List<T> values, Func<T, double> selector)
    {
        double[] sorted = [.. values.Select(selector).Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string TieredCompilation() =>
        Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") is "0" ? "OFF (DOTNET_TieredCompilation=0)" : "on (default)";

    private static string OrtVersion() =>
        typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "?";

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Timings of one run: one or more streams of token arrival timestamps, all started at <c>started</c>.</summary>
    internal sealed record StreamStats(
        int Tokens,
        double DecodeTokensPerSecond,
        double AggregateTokensPerSecond,
        double TimeToFirstTokenMs,
        double TimeToFirstTokenMaxMs,
        double ItlP50Ms,
        double ItlP95Ms,
        double ItlP99Ms)
    {
        public static StreamStats FromStreams(long started, IReadOnlyList<long[]> streams)
        {
            var gaps = new List<double>();
            var ttfts = new List<double>();
            long last = started;
            int tokens = 0;
            double decodeRate = 0;
            foreach (long[] stamps in streams)
            {
                if (stamps.Length == 0)
                {
                    continue;
                }

                tokens += stamps.Length;
                ttfts.Add(Ms(stamps[0] - started));
                last = Math.Max(last, stamps[^1]);
                for (int i = 1; i < stamps.Length; i++)
                {
                    gaps.Add(Ms(stamps[i] - stamps[i - 1]));
                }

                if (stamps.Length > 1)
                {
                    decodeRate += (stamps.Length - 1) / (Ms(stamps[^1] - stamps[0]) / 1000);
                }
            }

            gaps.Sort();
            ttfts.Sort();
            return new StreamStats(
                tokens / streams.Count,
                decodeRate / streams.Count,
                tokens / (Ms(last - started) / 1000),
                Percentile(ttfts, 0.5),
                ttfts.Count == 0 ? double.NaN : ttfts[^1],
                Percentile(gaps, 0.5),
                Percentile(gaps, 0.95),
                Percentile(gaps, 0.99));
        }

        private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

        private static double Percentile(List<double> sorted, double p)
        {
            if (sorted.Count == 0)
            {
                return double.NaN;
            }

            // Nearest rank.
            int rank = (int)Math.Ceiling(p * sorted.Count);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
        }
    }
}
