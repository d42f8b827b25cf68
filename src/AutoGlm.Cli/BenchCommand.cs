using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace AutoGlm.Cli;

/// <summary><c>autoglm bench</c>: a concurrency sweep of greedy generation on one model.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        Option<string> model = GenerateCommand.ModelOption(required: true);
        var concurrency = new Option<IReadOnlyList<int>>("--concurrency")
        {
            Description = "Concurrency levels to measure, comma-separated (level 1 is always measured first).",
            HelpName = "1,8",
            DefaultValueFactory = _ => [1, 8],
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return [1, 8];
                }

                try
                {
                    return ParseLevels(result.Tokens[^1].Value);
                }
                catch (CommandLineException ex)
                {
                    result.AddError(ex.Message);
                    return [1];
                }
            },
        };
        Option<int> promptTokens = CliOptions.Int("--prompt-tokens", "Prompt length of every request, in tokens.", 128, 1, 1_000_000);
        Option<int> newTokens = CliOptions.Int("--new-tokens", "Tokens every request generates (greedy, end-of-sequence ignored).", 64, 1, 1_000_000);
        int maxThreads = MaxThreads;
        Option<int> threads = CliOptions.Int("--threads", $"ONNX Runtime intra-op threads; 0 lets it choose (at most {maxThreads}: 4 per logical core).", 0, 0, maxThreads);
        Option<bool> json = CliOptions.Flag("--json", "Print the report as one JSON object.");

        var command = new Command("bench", "Measure a concurrency sweep of greedy generation: tokens/s, time to first token, inter-token latency, KV memory.")
        {
            model, concurrency, promptTokens, newTokens, threads, json,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model)!,
            new BenchSettings(parse.GetValue(concurrency)!, parse.GetValue(promptTokens), parse.GetValue(newTokens)),
            parse.GetValue(threads),
            parse.GetValue(json),
            cancellationToken));
        return command;
    }

    /// <summary>The most <c>--threads</c> accepted: 4 per logical core (more only makes threads wait for cores).</summary>
    internal static int MaxThreads => 4 * Environment.ProcessorCount;

    private static async Task<int> RunAsync(string modelPath, BenchSettings settings, int threads, bool json, CancellationToken cancellationToken)
    {
        BenchReport report;
        await using (GlmModel model = await GlmModel.LoadAsync(
            modelPath,
            new GlmModelOptions { MaxBatchSize = settings.ConcurrencyLevels.Max(), IntraOpThreads = threads, MaxSequenceLength = settings.PromptTokens + settings.NewTokens },
            cancellationToken).ConfigureAwait(false))
        {
            report = await ConcurrencySweep.RunAsync(model, settings, cancellationToken).ConfigureAwait(false);
        }

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine(Invariant($"model {report.Model} on {report.ExecutionProvider}, {report.LogicalCores} logical cores; {report.PromptTokens} prompt + {report.NewTokens} new tokens per request, greedy"));
        Console.Out.WriteLine("concurrency  tokens/s   ratio  TTFT p50 ms  TTFT p95 ms  ITL p50 ms  ITL p95 ms  peak KV MiB");
        foreach (BenchLevelResult level in report.Levels)
        {
            Console.Out.WriteLine(Invariant($"{level.Concurrency,11}  {level.TokensPerSecond,8:F1}  {level.RatioToConcurrency1,5:F2}x  {level.TimeToFirstTokenP50,11:F1}  {level.TimeToFirstTokenP95,11:F1}  {level.InterTokenP50,10:F1}  {level.InterTokenP95,10:F1}  {level.PeakKvBytes / (1024.0 * 1024.0),11:F1}"));
        }

        return ExitCodes.Ok;
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
