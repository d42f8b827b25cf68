using System.Globalization;
using System.Text.Json;

namespace AutoGlm.Cli;

/// <summary><c>autoglm bench</c>: a concurrency sweep of greedy generation on one model.</summary>
internal static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var cli = new CommandLine(args, "json");
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
