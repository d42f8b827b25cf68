using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--jit-probe [OUT.md] [fp32|int4]</c>: what the JIT compiles while a loaded model streams tokens. Loads the
/// <c>small</c> model as a user would (<see cref="GlmModel.Load"/>, defaults: warm-up on, tiered compilation as the
/// host runs it), then streams requests of 64 + 128 tokens and lists every method compiled after each request's first
/// token — with the token it arrived at and its tier — from the runtime's own JIT events. Load-independent: what is
/// compiled does not depend on how busy the machine is, only when.
/// </summary>
internal static class JitProbe
{
    public static int Report(string? outputPath, ModelPrecision precision)
    {
        string folder = BenchmarkModels.Ensure("small", precision);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# JIT work on the per-token path (`small` {precision}, tiered compilation {(Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") is "0" ? "OFF" : "on")}, TieredPGO {(Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is "0" ? "off" : "default")})");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Load average: {GenAiComparison.LoadAverage()}.");

        long loadStarted = Stopwatch.GetTimestamp();
        long jittedBeforeLoad = System.Runtime.JitInfo.GetCompiledMethodCount();
        using GlmModel model = GlmModel.Load(folder, new GlmModelOptions { IntraOpThreads = 2, MaxBatchSize = 8 });
        report.AppendLine(CultureInfo.InvariantCulture, $"`GlmModel.Load`: {Stopwatch.GetElapsedTime(loadStarted).TotalMilliseconds:F0} ms, {System.Runtime.JitInfo.GetCompiledMethodCount() - jittedBeforeLoad} methods compiled.");
        int[] prompt = BenchmarkPrompts.Create(model.Info.VocabularySize, 64, 0);
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = 128, IgnoreEos = true };

        using var listener = new JitListener();
        for (int request = 1; request <= 3; request++)
        {
            int token = -1;
            listener.Reset(() => token);
            var gaps = new List<double>();
            long previous = 0;
            Task.Run(async () =>
            {
                await foreach (GeneratedToken t in model.GenerateStreamingAsync(prompt, options).ConfigureAwait(false))
                {
                    long now = Stopwatch.GetTimestamp();
                    if (previous != 0)
                    {
                        gaps.Add(Stopwatch.GetElapsedTime(previous, now).TotalMilliseconds);
                    }

                    previous = now;
                    Volatile.Write(ref token, t.Index);
                }
            }).GetAwaiter().GetResult();
            Thread.Sleep(200); // events arrive asynchronously
            gaps.Sort();
            var compiled = listener.Snapshot();
            int afterFirst = compiled.Count(c => c.Token >= 0);
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"## Request {request}: {compiled.Count} methods compiled while it ran, {afterFirst} of them after its first token; ITL p50 {gaps[gaps.Count / 2]:F2} ms, p95 {gaps[(int)(gaps.Count * 0.95)]:F2} ms");
            if (compiled.Count > 0)
            {
                report.AppendLine();
                report.AppendLine("| At token | Tier | Method |");
                report.AppendLine("|---:|---|---|");
                foreach ((int at, string tier, string method) in compiled)
                {
                    report.AppendLine(CultureInfo.InvariantCulture, $"| {at} | {tier} | `{method}` |");
                }
            }
        }

        Console.Out.Write(report.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, report.ToString());
        }

        return 0;
    }

    /// <summary>Listens to the runtime's JIT events (MethodLoadVerbose) and notes the token being streamed at each.</summary>
    private sealed class JitListener : EventListener
    {
        private readonly ConcurrentQueue<(int Token, string Tier, string Method)> _compiled = new();
        private Func<int> _token = () => -1;

        public void Reset(Func<int> token)
        {
            _token = token;
            _compiled.Clear();
        }

        public List<(int Token, string Tier, string Method)> Snapshot() => [.. _compiled];

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                // JIT keyword (0x10), verbose: MethodLoadVerbose carries names and the optimisation tier.
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x10);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName is not "MethodLoadVerbose_V1" and not "MethodLoadVerbose_V2" and not "MethodLoadVerbose" || eventData.Payload is null)
            {
                return;
            }

            string Field(string name)
            {
                int index = eventData.PayloadNames!.IndexOf(name);
                return index >= 0 ? Convert.ToString(eventData.Payload[index], CultureInfo.InvariantCulture) ?? "" : "";
            }

            // MethodFlags bits 7..9 hold the optimisation tier (the runtime's MethodFlagsOptimizationTier).
            uint flags = uint.Parse(Field("MethodFlags"), CultureInfo.InvariantCulture);
            string tier = ((flags >> 7) & 0x7) switch
            {
                1 => "MinOpts",
                2 => "Optimized",
                3 => "Tier0",
                4 => "Tier1",
                5 => "Tier1 OSR",
                6 => "Tier0 instrumented",
                7 => "Tier1 instrumented",
                _ => "?",
            };
            _compiled.Enqueue((_token(), tier, $"{Field("MethodNamespace")}::{Field("MethodName")}"));
        }
    }
}
