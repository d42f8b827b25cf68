using System.Globalization;
using System.Text;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;
using AutoGlm.Execution;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--runtime-memory [OUT.md]</c>: managed bytes allocated per decoded token in steady state (the difference
/// between a long and a short generation, so per-request costs cancel out), and KV cache bytes allocated
/// against the tokens in flight, on the <c>small</c> preset (int4: the allocation pattern does not depend on
/// the precision). Allocation counts come from <see cref="GC.GetTotalAllocatedBytes(bool)"/> (all threads,
/// so the scheduler thread's allocations are included, as are any of the runtime's own).
/// </summary>
internal static class RuntimeMemoryProbe
{
    private const int PromptLength = 16;
    private const int ShortRun = 8;
    private const int LongRun = 72;

    public static int Report(string? outputPath)
    {
        string folder = BenchmarkModels.Ensure("small", ModelPrecision.Int4);
        var report = new StringBuilder();
        report.AppendLine("# Runtime memory: allocation per decoded token, KV cache against tokens in flight");
        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"`small` preset, int4, CPU, {Environment.ProcessorCount} logical cores. Bytes per token = (allocated during a {LongRun}-token generation − allocated during a {ShortRun}-token one) / ({LongRun} − {ShortRun}) per request, each the minimum of 3 repetitions; `GC.GetTotalAllocatedBytes(precise: true)`, all threads."));
        report.AppendLine();
        report.AppendLine("| Path | Requests | Bytes allocated per decoded token |");
        report.AppendLine("|---|---:|---:|");
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| OnnxBatchDecoder.Step + Sampler.Sample (the scheduler's per-step work) | 1 | {DecoderBytesPerToken(folder):F1} |"));
        using (GlmModel model = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = 8, MaxSequenceLength = 255 }))
        {
            foreach (int concurrency in new[] { 1, 4, 8 })
            {
                report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GlmModel.GenerateStreamingAsync (scheduler, text, channel, consumer) | {concurrency} | {ModelBytesPerToken(model, concurrency):F1} |"));
            }
        }

        using (GlmModel model = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = 1, MaxSequenceLength = 255 }))
        {
            (int withText, int total) = CountTokensWithText(model);
            (double textBytes, int textTokens) = TextStreamBytesPerToken(model.Tokenizer);
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| TokenizerTextDecoder stream alone, on {textTokens} tokens of English text (each releases text) | 1 | {textBytes:F1} |"));
            report.AppendLine();
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Caveat: the random-weight model's greedy tokens carry no text here ({withText} of {total} tokens of a greedy run released any), so the GlmModel rows above barely exercise the text path; a token that releases text costs one string, measured on its own in the last row."));
        }

        report.AppendLine();
        report.AppendLine("## KV cache in use against tokens in flight");
        report.AppendLine();
        report.AppendLine("Requests of 32 prompt tokens started together on one model (max batch 8, context 2048); sampled once every request has its first token. Reserved = prompt + max new tokens per running request (what admission charges to the KV budget); in flight = prompt + tokens produced so far.");
        report.AppendLine();
        report.AppendLine("| Requests | New tokens each | KV tokens reserved | Tokens in flight | KV bytes allocated | Bytes / reserved token | Bytes / token in flight | KV bytes after all finished |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        using (GlmModel model = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = 8 }))
        {
            foreach (int newTokens in new[] { 32, 224 })
            {
                foreach (int concurrency in new[] { 1, 2, 4, 8 })
                {
                    KvSample sample = SampleKv(model, concurrency, newTokens);
                    report.AppendLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"| {concurrency} | {newTokens} | {sample.Reserved} | {sample.InFlight} | {sample.Bytes} | {(double)sample.Bytes / sample.Reserved:F0} | {(double)sample.Bytes / sample.InFlight:F0} | {sample.BytesAfter} |"));
                }
            }

            report.AppendLine();
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"One token of KV cache (all layers, keys and values) is {model.Info.KvBytesPerToken} bytes."));
        }

        Console.Out.Write(report.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, report.ToString());
        }

        return 0;
    }

    private static (int WithText, int Total) CountTokensWithText(GlmModel model)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = LongRun, IgnoreEos = true };
        GenerationResult result = model.GenerateAsync(BenchmarkPrompts.Create(model.Info.VocabularySize, PromptLength, 0), options).GetAwaiter().GetResult();
        return (result.Tokens.Count(t => t.Text.Length > 0), result.Tokens.Count);
    }

    private static (double BytesPerToken, int Tokens) TextStreamBytesPerToken(Tokenization.Tokenizer tokenizer)
    {
        IReadOnlyList<int> ids = tokenizer.Encode("Large language models predict the next token from the tokens before it, one step at a time, and a runtime streams each token's text to the caller as soon as it is known.");
        var decoder = new TokenizerTextDecoder(tokenizer);
        long best = long.MaxValue;
        for (int repetition = 0; repetition < 3; repetition++)
        {
            ITokenTextStream stream = decoder.CreateStream();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            foreach (int id in ids)
            {
                stream.Append(id);
            }

            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        return ((double)best / ids.Count, ids.Count);
    }

    private static double DecoderBytesPerToken(string folder)
    {
        GlmModelInfo info = ModelFolder.Read(folder);
        using ModelSession session = ModelSession.Open(info, ExecutionProvider.Cpu, 0, BenchmarkModels.WeightLoading, null);
        using var decoder = new OnnxBatchDecoder(session.Session, info, 1, 255);
        var sampler = new Sampler(info.VocabularySize);
        var logits = new float[info.VocabularySize];
        var rows = new DecoderRow[1];
        var tokens = new int[1];
        int[] prompt = BenchmarkPrompts.Create(info.VocabularySize, PromptLength, 0);
        // The fewest bytes each length allocated over three runs: other threads' occasional allocations only ever add.
        long shortBytes = long.MaxValue;
        long longBytes = long.MaxValue;
        for (int repetition = 0; repetition < 3; repetition++)
        {
            shortBytes = Math.Min(shortBytes, DecodeBytes(ShortRun));
            longBytes = Math.Min(longBytes, DecodeBytes(LongRun));
        }

        return (double)(longBytes - shortBytes) / (LongRun - ShortRun);

        long DecodeBytes(int steps)
        {
            decoder.AllocateSlot(0, 255);
            using var sampling = new SamplingState(GenerationOptions.Greedy, info.VocabularySize, prompt, steps, 1);
            rows[0] = new DecoderRow(0, 0, PromptLength);
            decoder.Step(rows, prompt, logits, CancellationToken.None);
            int token = sampler.Sample(logits, sampling);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < steps; i++)
            {
                rows[0] = new DecoderRow(0, PromptLength + i, 1);
                tokens[0] = token;
                decoder.Step(rows, tokens, logits, CancellationToken.None);
                token = sampler.Sample(logits, sampling);
            }

            long after = GC.GetTotalAllocatedBytes(precise: true);
            decoder.FreeSlot(0);
            return after - before;
        }
    }

    private static double ModelBytesPerToken(GlmModel model, int concurrency)
    {
        long shortBytes = long.MaxValue;
        long longBytes = long.MaxValue;
        for (int repetition = 0; repetition < 3; repetition++)
        {
            shortBytes = Math.Min(shortBytes, GenerateBytes(model, concurrency, ShortRun));
            longBytes = Math.Min(longBytes, GenerateBytes(model, concurrency, LongRun));
        }

        return (double)(longBytes - shortBytes) / ((LongRun - ShortRun) * concurrency);
    }

    private static long GenerateBytes(GlmModel model, int concurrency, int newTokens)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = newTokens, IgnoreEos = true };
        int[][] prompts = [.. Enumerable.Range(0, concurrency).Select(r => BenchmarkPrompts.Create(model.Info.VocabularySize, PromptLength, r))];
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Task[] requests = [.. prompts.Select(p => ConsumeAsync(model, p, options))];
        Task.WaitAll(requests);
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private static async Task ConsumeAsync(GlmModel model, int[] prompt, GenerationOptions options)
    {
        await foreach (GeneratedToken _ in model.GenerateStreamingAsync(prompt, options).ConfigureAwait(false))
        {
        }
    }

    private static KvSample SampleKv(GlmModel model, int concurrency, int newTokens)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = newTokens, IgnoreEos = true };
        var received = new int[concurrency];
        using var allStarted = new CountdownEvent(concurrency);
        using var release = new ManualResetEventSlim(false);
        Task[] requests = [.. Enumerable.Range(0, concurrency).Select(r => Task.Run(async () =>
        {
            await foreach (GeneratedToken token in model.GenerateStreamingAsync(BenchmarkPrompts.Create(model.Info.VocabularySize, 32, r), options).ConfigureAwait(false))
            {
                Interlocked.Increment(ref received[r]);
                if (token.Index == 0)
                {
                    allStarted.Signal();
                }
            }
        }))];
        allStarted.Wait();
        int reserved = model.KvTokensInUse;
        long bytes = model.KvBytesAllocated;
        int inFlight = (32 * concurrency) + received.Sum();
        Task.WaitAll(requests);
        return new KvSample(reserved, inFlight, bytes, model.KvBytesAllocated);
    }

    private sealed record KvSample(int Reserved, int InFlight, long Bytes, long BytesAfter);
}
