using System.Diagnostics.Metrics;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class GenerationMetricsTests
{
    private sealed record Measurement(string Instrument, double Value, string? TokenType);

    [Fact]
    public async Task Scheduler_WithMeter_RecordsLatencyUsageBatchSizeAndGauges()
    {
        using var meter = new Meter(AutoGlmTelemetry.MeterName);
        var measurements = new List<Measurement>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? type = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "gen_ai.token.type")
                {
                    type = (string?)tag.Value;
                }
            }

            lock (measurements)
            {
                measurements.Add(new Measurement(instrument.Name, value, type));
            }
        }

        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();

        var decoder = new FakeBatchDecoder();
        await using (var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { Meter = meter }))
        {
            var options = GenerationOptions.Greedy with { IgnoreEos = true };
            await Task.WhenAll(
                scheduler.GenerateAsync([1, 2, 3, 4, 5], options with { MaxNewTokens = 4 }),
                scheduler.GenerateAsync([6, 7, 8, 9, 10, 11, 12], options with { MaxNewTokens = 6 })).WaitAsync(TimeSpan.FromSeconds(10));
            listener.RecordObservableInstruments();
        }

        Measurement[] all;
        lock (measurements)
        {
            all = [.. measurements];
        }

        double[] Values(string name, string? type = null) => all.Where(m => m.Instrument == name && m.TokenType == type).Select(m => m.Value).Order().ToArray();
        // Token usage is a client metric: the chat client records it, the scheduler does not (so nothing is counted twice).
        Assert.DoesNotContain(all, m => m.Instrument.StartsWith("gen_ai.client.", StringComparison.Ordinal));
        Assert.Equal(2, Values("gen_ai.server.time_to_first_token").Length);
        Assert.Equal(2, Values("gen_ai.server.request.duration").Length);
        Assert.Equal(2, Values("gen_ai.server.time_per_output_token").Length);

        // Every token after a request's first comes from a decode step: (4 - 1) + (6 - 1) rows in all.
        Assert.Equal(8.0, Values("autoglm.batch.size").Sum());
        Assert.Equal([0.0], Values("autoglm.queue.depth"));
        Assert.Equal([0.0], Values("autoglm.kv_cache.usage"));
        Assert.Equal([(double)(decoder.MaxBatchSize * decoder.MaxSequenceLength)], Values("autoglm.kv_cache.limit"));
    }

    [Fact]
    public async Task Scheduler_PreemptingUnderATightBudget_CountsPreemptionsAndReportsKvBytes()
    {
        using var meter = new Meter(AutoGlmTelemetry.MeterName);
        long preemptions = 0;
        var bytes = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name is "autoglm.kv_cache.preemptions" or "autoglm.kv_cache.memory")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "autoglm.kv_cache.preemptions")
            {
                Interlocked.Add(ref preemptions, value);
            }
            else
            {
                lock (bytes)
                {
                    bytes.Add(value);
                }
            }
        });
        listener.Start();

        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using (var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { Meter = meter, KvBudgetTokens = 100, KvBytesHeld = () => 4096 }))
        {
            var options = GenerationOptions.Greedy with { MaxNewTokens = 60, IgnoreEos = true };
            await Task.WhenAll(scheduler.GenerateAsync([1, 2, 3, 4, 5], options), scheduler.GenerateAsync([6, 7, 8], options)).WaitAsync(TimeSpan.FromSeconds(10));
            listener.RecordObservableInstruments();

            Assert.True(scheduler.PreemptionCount >= 1, "nothing was preempted");
            Assert.Equal(scheduler.PreemptionCount, Interlocked.Read(ref preemptions));
        }

        Assert.Equal([4096L], bytes);
    }
}
