using System.Diagnostics;
using AutoGlm.Generation;

namespace AutoGlm.Cli;

/// <summary>
/// The core of <c>autoglm bench</c>: for each concurrency level, starts that many greedy requests at once on a
/// loaded model (same prompt length, same number of new tokens, end-of-sequence ignored), streams them to the
/// end, and reports aggregate throughput, time to first token and inter-token latency.
/// </summary>
/// <remarks>Not thread-safe; run one sweep at a time on a model, with no other requests in flight.</remarks>
internal static class ConcurrencySweep
{
    // Prompts are cut from this text's tokens; each request starts at a different offset so no two are equal.
    private const string PromptText = "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。 "
        + "Large language models predict the next token from the tokens before it, one step at a time. 1234567890 ";

    /// <summary>Runs the sweep; level 1 runs first whether or not it is listed, as the reference of the ratios.</summary>
    /// <exception cref="ArgumentException">A level or length is out of range, or a request would not fit in the model's context.</exception>
    public static async Task<BenchReport> RunAsync(GlmModel model, BenchSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.PromptTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.NewTokens);
        if (settings.PromptTokens + settings.NewTokens > model.MaxSequenceLength)
        {
            throw new ArgumentException($"A request of {settings.PromptTokens} prompt tokens and {settings.NewTokens} new tokens needs {settings.PromptTokens + settings.NewTokens} positions, but the model holds at most {model.MaxSequenceLength}; lower --prompt-tokens or --new-tokens.", nameof(settings));
        }

        var levels = new List<int> { 1 };
        foreach (int level in settings.ConcurrencyLevels)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(level);
            if (!levels.Contains(level))
            {
                levels.Add(level);
            }
        }

        int[] source = SourceTokens(model, settings.PromptTokens);
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = settings.NewTokens, IgnoreEos = true };
        var results = new List<BenchLevelResult>();
        double reference = 0;
        foreach (int concurrency in levels)
        {
            LevelMeasurement measured = await MeasureAsync(model, source, settings.PromptTokens, concurrency, options, cancellationToken).ConfigureAwait(false);
            double tokensPerSecond = measured.GeneratedTokens / measured.WallSeconds;
            if (concurrency == 1)
            {
                reference = tokensPerSecond;
            }

            results.Add(new BenchLevelResult
            {
                Concurrency = concurrency,
                GeneratedTokens = measured.GeneratedTokens,
                WallSeconds = measured.WallSeconds,
                TokensPerSecond = tokensPerSecond,
                RatioToConcurrency1 = tokensPerSecond / reference,
                TimeToFirstTokenP50 = Percentile(measured.FirstTokenMs, 0.50),
                TimeToFirstTokenP95 = Percentile(measured.FirstTokenMs, 0.95),
                TimeToFirstTokenP99 = Percentile(measured.FirstTokenMs, 0.99),
                InterTokenP50 = Percentile(measured.InterTokenMs, 0.50),
                InterTokenP95 = Percentile(measured.InterTokenMs, 0.95),
                InterTokenP99 = Percentile(measured.InterTokenMs, 0.99),
                Steps = measured.Steps,
                PeakKvTokensReserved = measured.PeakKvTokens,
                PeakKvBytes = measured.PeakKvBytes,
            });
        }

        return new BenchReport
        {
            Model = model.Info.FolderPath,
            ExecutionProvider = model.ExecutionProvider.Selected.Name,
            PromptTokens = settings.PromptTokens,
            NewTokens = settings.NewTokens,
            LogicalCores = Environment.ProcessorCount,
            LoadAverage = ReadLoadAverage(),
            Levels = results,
        };
    }

    /// <summary>The <paramref name="fraction"/> percentile of <paramref name="values"/>, interpolated linearly between the closest ranks; 0 for none.</summary>
    internal static double Percentile(IReadOnlyList<double> values, double fraction)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        double[] sorted = [.. values];
        Array.Sort(sorted);
        double rank = fraction * (sorted.Length - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((rank - low) * (sorted[high] - sorted[low]));
    }

    /// <summary>The machine's 1, 5 and 15 minute load averages (Linux <c>/proc/loadavg</c>), or null where there is none: timings mean little on a busy machine.</summary>
    internal static double[]? ReadLoadAverage()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return [.. fields.Take(3).Select(f => double.Parse(f, System.Globalization.CultureInfo.InvariantCulture))];
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static int[] SourceTokens(GlmModel model, int promptTokens)
    {
        IReadOnlyList<int> text = model.Tokenizer.Encode(PromptText);
        var tokens = new List<int>(text.Count + promptTokens);
        while (tokens.Count < text.Count + promptTokens)
        {
            tokens.AddRange(text);
        }

        return [.. tokens];
    }

    private static async Task<LevelMeasurement> MeasureAsync(GlmModel model, int[] source, int promptTokens, int concurrency, GenerationOptions options, CancellationToken cancellationToken)
    {
        var firstToken = new double[concurrency];
        var interToken = new List<double>[concurrency];
        var generated = new int[concurrency];
        int peakKvTokens = 0;
        long peakKvBytes = 0;
        var gate = new Lock();
        long stepsBefore = model.StepCount;
        long started = Stopwatch.GetTimestamp();
        var requests = new Task[concurrency];
        for (int r = 0; r < concurrency; r++)
        {
            int request = r;
            int[] prompt = source.AsSpan(request % Math.Max(1, source.Length - promptTokens), promptTokens).ToArray();
            interToken[request] = new List<double>(options.MaxNewTokens);
            requests[request] = Task.Run(
                async () =>
                {
                    TimeSpan previous = TimeSpan.Zero;
                    await foreach (GeneratedToken token in model.GenerateStreamingAsync(prompt, options, cancellationToken).ConfigureAwait(false))
                    {
                        if (token.Index == 0)
                        {
                            firstToken[request] = token.Elapsed.TotalMilliseconds;
                        }
                        else
                        {
                            interToken[request].Add((token.Elapsed - previous).TotalMilliseconds);
                        }

                        previous = token.Elapsed;
                        generated[request]++;
                        Sample();
                    }
                },
                cancellationToken);
        }

        // The KV figures are sampled (on every token and by this poller), so a short level may miss its peak.
        using var polling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task poller = Task.Run(
            async () =>
            {
                while (!polling.IsCancellationRequested)
                {
                    Sample();
                    await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
                }
            },
            CancellationToken.None);
        try
        {
            await Task.WhenAll(requests).ConfigureAwait(false);
        }
        finally
        {
            await polling.CancelAsync().ConfigureAwait(false);
            await poller.ConfigureAwait(false);
        }

        double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new LevelMeasurement(
            generated.Sum(),
            wall,
            firstToken,
            [.. interToken.SelectMany(l => l)],
            model.StepCount - stepsBefore,
            peakKvTokens,
            peakKvBytes);

        void Sample()
        {
            int kvTokens = model.KvTokensInUse;
            long kvBytes = model.KvBytesResident;
            lock (gate)
            {
                peakKvTokens = Math.Max(peakKvTokens, kvTokens);
                peakKvBytes = Math.Max(peakKvBytes, kvBytes);
            }
        }
    }

    private sealed record LevelMeasurement(int GeneratedTokens, double WallSeconds, double[] FirstTokenMs, double[] InterTokenMs, long Steps, int PeakKvTokens, long PeakKvBytes);
}
