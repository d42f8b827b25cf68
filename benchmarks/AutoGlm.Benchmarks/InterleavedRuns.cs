using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoGlm.Execution;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--interleaved [OUT.md [decode]]</c>: the decode and concurrency comparisons again, with the contenders run in
/// turns inside one process (A, B, C, A, B, C, …) so that load from other processes on the machine hits them
/// alike; each round times one block per contender, and the report gives the median and the minimum time per
/// token over the rounds. BenchmarkDotNet runs one method after the other, which on a shared machine lets
/// the load drift between them.
/// </summary>
internal static class InterleavedRuns
{
    private const int PromptLength = 32;
    private const int Steps = 16;
    private const int KvLength = 256;
    private const int Batch = 8;
    private const int Rounds = 5;

    /// <param name="outputPath">Where to write the markdown report, if anywhere.</param>
    /// <param name="decodeOnly">Run only the decode-step comparison.</param>
    public static int Report(string? outputPath, bool decodeOnly = false)
    {
        var report = new StringBuilder();
        report.AppendLine("# Interleaved runs: decode step and concurrency, contenders in turns");
        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"`small` preset, CPU, {Environment.ProcessorCount} logical cores shared with other jobs (load average at start: {LoadAverage()}). {Rounds} rounds; in each round every contender runs one block, in turn; ms per generated token; ratio = median / median of the first row."));
        foreach (ModelPrecision precision in new[] { ModelPrecision.Fp32, ModelPrecision.Int4 })
        {
            string folder = BenchmarkModels.Ensure("small", precision);
            report.AppendLine();
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"## {precision}: decode step (32-token prompt, then {Steps} greedy steps per block over positions 32..47)"));
            report.AppendLine();
            AppendTable(report, Decode(folder));
            if (decodeOnly)
            {
                continue;
            }

            report.AppendLine();
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"## {precision}: GlmModel end to end (each request: 32-token prompt, 32 greedy new tokens; one block = all requests of the level, started together)"));
            report.AppendLine();
            AppendTable(report, Concurrency(folder));
        }

        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Load average at end: {LoadAverage()}."));
        Console.Out.Write(report.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, report.ToString());
        }

        return 0;
    }

    private static void AppendTable(StringBuilder report, IReadOnlyList<(string Name, List<double> MsPerToken)> rows)
    {
        report.AppendLine("| Contender | Median ms/token | Min ms/token | Tokens/s (median) | Ratio (median) |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        double reference = Median(rows[0].MsPerToken);
        foreach ((string name, List<double> times) in rows)
        {
            double median = Median(times);
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {median:F2} | {times.Min():F2} | {1000 / median:F1} | {median / reference:F3} |"));
        }
    }

    private static List<(string, List<double>)> Decode(string folder)
    {
        GlmModelInfo info = ModelFolder.Read(folder);
        using ModelSession bareSession = ModelSession.Open(info, ExecutionProvider.Cpu, 0, BenchmarkModels.WeightLoading, null);
        using ModelSession oneSession = ModelSession.Open(info, ExecutionProvider.Cpu, 0, BenchmarkModels.WeightLoading, null);
        using ModelSession eightSession = ModelSession.Open(info, ExecutionProvider.Cpu, 0, BenchmarkModels.WeightLoading, null);
        using var bare = new BareOrtLoop(bareSession.Session, info, KvLength);
        using var one = new OnnxBatchDecoder(oneSession.Session, info, 1, KvLength - 1);
        using var eight = new OnnxBatchDecoder(eightSession.Session, info, Batch, KvLength - 1);
        int vocabulary = info.VocabularySize;
        var sampler = new Sampler(vocabulary);
        var logits = new float[Batch * vocabulary];
        var sampling = Enumerable.Range(0, Batch).Select(_ => new SamplingState(GenerationOptions.Greedy, vocabulary, [], Steps, 1)).ToArray();
        var rows = new DecoderRow[Batch];
        var tokens = new int[Batch];
        var firsts = new int[Batch];

        int bareFirst = bare.Prefill(BenchmarkPrompts.Create(vocabulary, PromptLength, 0));
        one.AllocateSlot(0, KvLength - 1);
        rows[0] = new DecoderRow(0, 0, PromptLength);
        one.Step(rows.AsSpan(0, 1), BenchmarkPrompts.Create(vocabulary, PromptLength, 0), logits.AsSpan(0, vocabulary), CancellationToken.None);
        int oneFirst = sampler.Sample(logits.AsSpan(0, vocabulary), sampling[0]);
        for (int slot = 0; slot < Batch; slot++)
        {
            eight.AllocateSlot(slot, KvLength - 1);
            rows[0] = new DecoderRow(slot, 0, PromptLength);
            eight.Step(rows.AsSpan(0, 1), BenchmarkPrompts.Create(vocabulary, PromptLength, slot), logits.AsSpan(0, vocabulary), CancellationToken.None);
            firsts[slot] = sampler.Sample(logits.AsSpan(0, vocabulary), sampling[slot]);
        }

        var bareTimes = new List<double>();
        var oneTimes = new List<double>();
        var eightTimes = new List<double>();
        for (int round = 0; round <= Rounds; round++)
        {
            // Round 0 warms every contender up and is not counted.
            double bareMs = Time(() =>
            {
                bare.Truncate(PromptLength);
                int token = bareFirst;
                for (int i = 0; i < Steps; i++)
                {
                    token = bare.Decode(token, PromptLength + i);
                }
            }) / Steps;
            double oneMs = Time(() =>
            {
                tokens[0] = oneFirst;
                for (int i = 0; i < Steps; i++)
                {
                    rows[0] = new DecoderRow(0, PromptLength + i, 1);
                    one.Step(rows.AsSpan(0, 1), tokens.AsSpan(0, 1), logits.AsSpan(0, vocabulary), CancellationToken.None);
                    tokens[0] = sampler.Sample(logits.AsSpan(0, vocabulary), sampling[0]);
                }
            }) / Steps;
            double eightMs = Time(() =>
            {
                firsts.CopyTo(tokens, 0);
                for (int i = 0; i < Steps; i++)
                {
                    for (int slot = 0; slot < Batch; slot++)
                    {
                        rows[slot] = new DecoderRow(slot, PromptLength + i, 1);
                    }

                    eight.Step(rows, tokens, logits, CancellationToken.None);
                    for (int slot = 0; slot < Batch; slot++)
                    {
                        tokens[slot] = sampler.Sample(logits.AsSpan(slot * vocabulary, vocabulary), sampling[slot]);
                    }
                }
            }) / (Steps * Batch);
            if (round > 0)
            {
                bareTimes.Add(bareMs);
                oneTimes.Add(oneMs);
                eightTimes.Add(eightMs);
            }
        }

        foreach (SamplingState state in sampling)
        {
            state.Dispose();
        }

        return
        [
            ("bare ORT loop, batch 1 (baseline)", bareTimes),
            ("AutoGlm OnnxBatchDecoder + Sampler, batch 1", oneTimes),
            ("AutoGlm OnnxBatchDecoder + Sampler, batch 8 (per token)", eightTimes),
        ];
    }

    private static List<(string, List<double>)> Concurrency(string folder)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = 32, IgnoreEos = true };
        using GlmModel model = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = Batch, MaxSequenceLength = KvLength - 1 });
        int[][] prompts = [.. Enumerable.Range(0, Batch).Select(r => BenchmarkPrompts.Create(model.Info.VocabularySize, PromptLength, r))];
        int[] levels = [1, 4, 8];
        var times = levels.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round <= Rounds; round++)
        {
            for (int l = 0; l < levels.Length; l++)
            {
                int concurrency = levels[l];
                double ms = Time(() => Task.WaitAll([.. prompts.Take(concurrency).Select(p => model.GenerateAsync(p, options))])) / (32.0 * concurrency);
                if (round > 0)
                {
                    times[l].Add(ms);
                }
            }
        }

        return [.. levels.Select((c, l) => (c == 1 ? "concurrency 1 (baseline)" : string.Create(CultureInfo.InvariantCulture, $"concurrency {c}"), times[l]))];
    }

    private static double Time(Action action)
    {
        // A short pause between contenders lets the previous session's spinning worker threads go to sleep.
        Thread.Sleep(20);
        long started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
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
}
