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
        Option<bool> trace = CliOptions.Flag("--trace", "Replay a chat-like trace instead of the sweep: Poisson arrivals of multi-turn conversations that resend their history.");
        Option<double?> rate = CliOptions.OptionalDouble("--rate", "With --trace: new conversations per second (default 0.5).", 0.001, 1000);
        Option<int> conversations = CliOptions.Int("--conversations", "With --trace: conversations in the trace.", 16, 1, 100_000);
        Option<int> maxTurns = CliOptions.Int("--max-turns", "With --trace: most turns of one conversation.", 5, 1, 100);
        Option<int> thinkMs = CliOptions.Int("--think-ms", "With --trace: mean pause before a conversation's next turn, in ms.", 500, 0, 3_600_000);
        Option<int> systemTokens = CliOptions.Int("--system-tokens", "With --trace: tokens of the system prompt every conversation shares.", 32, 1, 100_000);
        Option<int> seed = CliOptions.Int("--seed", "With --trace: seed of the trace.", 1, 0, int.MaxValue);
        Option<int> maxBatch = CliOptions.Int("--max-batch", "With --trace: the model's MaxBatchSize.", 8, 1, 256);
        Option<int> context = CliOptions.Int("--context", "With --trace: the model's MaxSequenceLength.", 1024, 2, 1_000_000);
        Option<bool> prefixReuse = CliOptions.Flag("--prefix-reuse", "With --trace: keep finished sequences' KV and reuse matching prompt prefixes.");
        Option<int> kvBudget = CliOptions.Int("--kv-budget", "With --trace: the model's KvBudgetTokens (0: MaxBatchSize × context); a small budget makes running requests preempt each other.", 0, 0, GlmModelOptions.MaxTokens);
        Option<int> queueCapacity = CliOptions.Int("--queue-capacity", "With --trace: the model's QueueCapacity (requests that may wait; one more is rejected).", new GlmModelOptions().QueueCapacity, 1, GlmModelOptions.MaxQueueCapacity);
        Option<int> warmCold = CliOptions.Int("--warm-cold", "With --trace --prefix-reuse: after the replay, play this many conversations of --max-turns turns alone and compare the last turn's time to first token with the same prompt sent to a model that kept nothing (0: skip).", 0, 0, 10_000);

        var command = new Command("bench", "Measure a concurrency sweep of greedy generation: tokens/s, time to first token, inter-token latency, KV memory.")
        {
            model, concurrency, promptTokens, newTokens, threads, json, trace, rate, conversations, maxTurns, thinkMs, systemTokens, seed, maxBatch, context, prefixReuse, kvBudget, queueCapacity, warmCold,
        };
        command.SetAction((parse, cancellationToken) => parse.GetValue(trace)
            ? RunTraceAsync(
                parse.GetValue(model)!,
                new TraceSettings(parse.GetValue(rate) ?? 0.5, parse.GetValue(conversations), parse.GetValue(maxTurns), parse.GetValue(thinkMs) / 1000.0, parse.GetValue(systemTokens), parse.GetValue(seed)),
                parse.GetValue(maxBatch),
                parse.GetValue(threads),
                parse.GetValue(context),
                parse.GetValue(prefixReuse),
                parse.GetValue(kvBudget),
                parse.GetValue(queueCapacity),
                parse.GetValue(warmCold),
                parse.GetValue(json),
                cancellationToken)
            : RunAsync(
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

    // autoglm bench --trace: a chat workload (see ChatTrace) replayed in real time.
    private static async Task<int> RunTraceAsync(string modelPath, TraceSettings settings, int maxBatch, int threads, int context, bool prefixReuse, int kvBudget, int queueCapacity, int warmCold, bool json, CancellationToken cancellationToken)
    {
        if (warmCold > 0 && (!prefixReuse || settings.MaxTurns < 2))
        {
            throw new CommandLineException("option '--warm-cold' compares a later turn with prefix reuse against the same prompt sent cold: add --prefix-reuse and use --max-turns 2 or more.");
        }

        using var prefixCounter = new PrefixReuseCounter();
        var options = new GlmModelOptions
        {
            MeterFactory = prefixCounter,
            MaxBatchSize = maxBatch,
            IntraOpThreads = threads,
            MaxSequenceLength = context,
            PrefixReuse = prefixReuse,
            KvBudgetTokens = kvBudget > 0 ? kvBudget : null,
            QueueCapacity = queueCapacity,
        };
        await using GlmModel model = await GlmModel.LoadAsync(modelPath, options, cancellationToken).ConfigureAwait(false);
        var trace = ChatTrace.Create(settings, model.Tokenizer.Encode(TraceSourceText));
        TraceReport report = await TraceReplay.RunAsync(model, trace, cancellationToken).ConfigureAwait(false);
        report = report with { PrefixLookups = prefixCounter.Lookups, PrefixHits = prefixCounter.Hits, PrefixTokensSaved = prefixCounter.TokensSaved };
        if (warmCold > 0)
        {
            await using GlmModel cold = await GlmModel.LoadAsync(modelPath, options with { PrefixReuse = false }, cancellationToken).ConfigureAwait(false);
            report = report with { WarmCold = await WarmColdProbe.RunAsync(model, cold, trace, settings.MaxTurns, warmCold, cancellationToken).ConfigureAwait(false) };
        }

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.SnakeCase));
            return 0;
        }

        Console.Out.WriteLine(Invariant($"model {report.Model}; {settings.Conversations} conversations at {settings.ConversationsPerSecond}/s, up to {settings.MaxTurns} turns, seed {settings.Seed}; prefix reuse {(prefixReuse ? "on" : "off")}"));
        Console.Out.WriteLine(Invariant($"requests {report.Requests}, failed {report.Failed}, rejected (queue full) {report.RejectedQueueFull}, skipped for context {report.SkippedForContext}; {report.GeneratedTokens} tokens in {report.WallSeconds:F1} s = {report.TokensPerSecond:F1} tok/s"));
        Console.Out.WriteLine(Invariant($"TTFT ms p50/p95/p99 {report.TimeToFirstTokenMs.P50:F0}/{report.TimeToFirstTokenMs.P95:F0}/{report.TimeToFirstTokenMs.P99:F0}; ITL ms {report.InterTokenMs.P50:F1}/{report.InterTokenMs.P95:F1}/{report.InterTokenMs.P99:F1}; end-to-end ms {report.EndToEndMs.P50:F0}/{report.EndToEndMs.P95:F0}/{report.EndToEndMs.P99:F0}"));
        Console.Out.WriteLine(Invariant($"KV budget {report.KvBudgetTokens} tokens; KV peak {report.PeakKvBytes / (1024.0 * 1024.0):F1} MiB held, peak {report.PeakKvTokensReserved} positions reserved; worst bytes held / bytes the tokens held need {report.PeakKvOverInFlight:F2}; preemptions {report.Preemptions}"));
        if (report.WorstKvSample is { } worst)
        {
            Console.Out.WriteLine(Invariant($"KV bound (1.25 × needed + one 16-token block per sequence): worst sample {report.WorstKvOverBound:F2} of it ({worst.Bytes / 1024.0:F0} KiB held for {worst.Tokens} tokens in {worst.Sequences} sequences){(report.WorstKvOverBound <= 1 ? "" : " - over the bound")}"));
        }
        Console.Out.WriteLine("TTFT p50 ms by turn: " + string.Join(", ", report.TimeToFirstTokenP50ByTurnMs.Select((v, i) => Invariant($"{i + 1}: {v:F0} ({report.MeanPromptTokensByTurn[i]:F0} prompt tokens)"))));
        if (prefixReuse)
        {
            Console.Out.WriteLine(Invariant($"prefix reuse: {report.PrefixHits} of {report.PrefixLookups} requests hit; {report.PrefixTokensSaved} of {report.PromptTokens} prompt tokens not recomputed ({(report.PromptTokens == 0 ? 0 : 100.0 * report.PrefixTokensSaved / report.PromptTokens):F0} %)"));
        }

        if (report.WarmCold is { } probe)
        {
            Console.Out.WriteLine(Invariant($"turn {probe.Turn} alone, {probe.Conversations} conversations ({probe.MeanPromptTokens:F0} prompt tokens): TTFT p50 {probe.WarmFirstTokenP50Ms:F1} ms with the earlier turns kept vs {probe.ColdFirstTokenP50Ms:F1} ms for the same prompt cold; median ratio {probe.RatioP50:F2}"));
        }
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
