using System.Globalization;
using System.Text.Json;

namespace AutoGlm.Cli;

/// <summary><c>autoglm bench</c>: a concurrency sweep of greedy generation on one model.</summary>
internal static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var cli = new CommandLine(args, "json", "trace", "prefix-reuse");
        if (cli.Has("trace"))
        {
            return await RunTraceAsync(cli, cancellationToken).ConfigureAwait(false);
        }

        string modelPath = cli.Require("model");
        IReadOnlyList<int> levels = ParseLevels(cli.Get("concurrency") ?? "1,8");
        int promptTokens = cli.GetInt("prompt-tokens", 128, 1);
        int newTokens = cli.GetInt("new-tokens", 64, 1);
        int threads = cli.GetInt("threads", 0, 0, 1024);
        bool json = cli.Has("json");
        cli.ThrowOnUnknown();

        BenchReport report;
        try
        {
            await using GlmModel model = await GlmModel.LoadAsync(
                modelPath,
                new GlmModelOptions { MaxBatchSize = Math.Max(1, levels.Max()), IntraOpThreads = threads, MaxSequenceLength = promptTokens + newTokens },
                cancellationToken).ConfigureAwait(false);
            report = await ConcurrencySweep.RunAsync(model, new BenchSettings(levels, promptTokens, newTokens), cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"autoglm bench: {ex.Message}");
            return 1;
        }

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return 0;
        }

        Console.Out.WriteLine(Invariant($"model {report.Model} on {report.ExecutionProvider}, {report.LogicalCores} logical cores; {report.PromptTokens} prompt + {report.NewTokens} new tokens per request, greedy"));
        Console.Out.WriteLine("concurrency  tokens/s   ratio  TTFT p50 ms  TTFT p95 ms  ITL p50 ms  ITL p95 ms  peak KV MiB");
        foreach (BenchLevelResult level in report.Levels)
        {
            Console.Out.WriteLine(Invariant($"{level.Concurrency,11}  {level.TokensPerSecond,8:F1}  {level.RatioToConcurrency1,5:F2}x  {level.TimeToFirstTokenP50,11:F1}  {level.TimeToFirstTokenP95,11:F1}  {level.InterTokenP50,10:F1}  {level.InterTokenP95,10:F1}  {level.PeakKvBytes / (1024.0 * 1024.0),11:F1}"));
        }

        return 0;
    }

    // autoglm bench --trace: a chat workload (see ChatTrace) replayed in real time.
    private static async Task<int> RunTraceAsync(CommandLine cli, CancellationToken cancellationToken)
    {
        string modelPath = cli.Require("model");
        var settings = new TraceSettings(
            cli.GetDouble("rate", 0.5, 0.001, 1000),
            cli.GetInt("conversations", 16, 1, 100_000),
            cli.GetInt("max-turns", 5, 1, 100),
            cli.GetInt("think-ms", 500, 0, 3_600_000) / 1000.0,
            cli.GetInt("system-tokens", 32, 1, 100_000),
            cli.GetInt("seed", 1, 0));
        int maxBatch = cli.GetInt("max-batch", 8, 1, 256);
        int threads = cli.GetInt("threads", 0, 0, 1024);
        int context = cli.GetInt("context", 1024, 2, 1_000_000);
        bool prefixReuse = cli.Has("prefix-reuse");
        bool json = cli.Has("json");
        cli.ThrowOnUnknown();

        await using GlmModel model = await GlmModel.LoadAsync(
            modelPath,
            new GlmModelOptions
            {
                MaxBatchSize = maxBatch,
                IntraOpThreads = threads,
                MaxSequenceLength = context,
                PrefixReuse = prefixReuse,
            },
            cancellationToken).ConfigureAwait(false);
        var trace = ChatTrace.Create(settings, model.Tokenizer.Encode(TraceSourceText));
        TraceReport report = await TraceReplay.RunAsync(model, trace, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return 0;
        }

        Console.Out.WriteLine(Invariant($"model {report.Model}; {settings.Conversations} conversations at {settings.ConversationsPerSecond}/s, up to {settings.MaxTurns} turns, seed {settings.Seed}; prefix reuse {(prefixReuse ? "on" : "off")}"));
        Console.Out.WriteLine(Invariant($"requests {report.Requests}, failed {report.Failed}, skipped for context {report.SkippedForContext}; {report.GeneratedTokens} tokens in {report.WallSeconds:F1} s = {report.TokensPerSecond:F1} tok/s"));
        Console.Out.WriteLine(Invariant($"TTFT ms p50/p95/p99 {report.TimeToFirstTokenMs.P50:F0}/{report.TimeToFirstTokenMs.P95:F0}/{report.TimeToFirstTokenMs.P99:F0}; ITL ms {report.InterTokenMs.P50:F1}/{report.InterTokenMs.P95:F1}/{report.InterTokenMs.P99:F1}; end-to-end ms {report.EndToEndMs.P50:F0}/{report.EndToEndMs.P95:F0}/{report.EndToEndMs.P99:F0}"));
        Console.Out.WriteLine(Invariant($"KV peak {report.PeakKvBytes / (1024.0 * 1024.0):F1} MiB, peak {report.PeakKvTokensReserved} positions reserved, peak bytes / bytes the tokens in flight need {report.PeakKvOverInFlight:F2}; preemptions: none (not implemented)"));
        Console.Out.WriteLine("TTFT p50 ms by turn: " + string.Join(", ", report.TimeToFirstTokenP50ByTurnMs.Select((v, i) => Invariant($"{i + 1}: {v:F0} ({report.MeanPromptTokensByTurn[i]:F0} prompt tokens)"))));
        return 0;
    }

    private const string TraceSourceText = "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。 "
        + "Large language models predict the next token from the tokens before it, one step at a time. 1234567890 "
        + "Could you explain how continuous batching shares one model among many chat users? Sure: each step decodes every running sequence together. ";

    internal static IReadOnlyList<int> ParseLevels(string text)
    {
        var levels = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int level) || level < 1 || level > 256)
            {
                throw new CommandLineException($"option '--concurrency' must be a comma-separated list of integers from 1 to 256, like 1,4,8; '{part}' is not one.");
            }

            levels.Add(level);
        }

        return levels;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
