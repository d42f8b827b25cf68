using System.Diagnostics.Metrics;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class PrefixReuseTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly GenerationOptions s_greedy = GenerationOptions.Greedy with { MaxNewTokens = 10, IgnoreEos = true };

    private static BatchScheduler Scheduler(FakeBatchDecoder decoder, int? budget = null, Meter? meter = null) =>
        new(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { EosTokenIds = [0], PrefixReuse = true, KvBudgetTokens = budget, Meter = meter });

    private static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => 1 + ((i * 31 + salt * 7) % 90)).ToArray();

    private static int[] Ids(GenerationResult result) => result.Tokens.Select(t => t.Id).ToArray();

    [Fact]
    public async Task GenerateAsync_NextTurnResendsHistory_ReusesTheKeptKvAndMatchesAColdRun()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] first = Prompt(20, 1);
        int[] answer = Ids(await scheduler.GenerateAsync(first, s_greedy).WaitAsync(s_timeout));

        // The next turn: the whole history (the answer as sampled) and a new user message.
        int[] second = [.. first, .. answer, .. Prompt(7, 2)];
        GenerationResult result = await scheduler.GenerateAsync(second, s_greedy).WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(second, 10, []), Ids(result));
        // Every token the first turn fed (its prompt and all of its answer but the last) was kept.
        Assert.Equal([(0, 20 + 10 - 1)], decoder.Reuses);
        Assert.Single(decoder.Allocations);
        DecoderRow firstRowOfSecondTurn = decoder.Steps.Select(s => s[0]).First(r => r.PastLength == 29);
        Assert.Equal(second.Length - 29, firstRowOfSecondTurn.TokenCount);
    }

    [Fact]
    public async Task GenerateAsync_SharedSystemPromptThenDivergence_KeepsOnlyTheCommonPrefix()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] system = Prompt(16, 3);
        int[] a = [.. system, 5, 6, 7];
        int[] b = [.. system, 8, 9];
        await scheduler.GenerateAsync(a, s_greedy).WaitAsync(s_timeout);

        GenerationResult result = await scheduler.GenerateAsync(b, s_greedy).WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(b, 10, []), Ids(result));
        Assert.Equal([(0, 16)], decoder.Reuses);
    }

    [Fact]
    public async Task GenerateAsync_SamePromptTwice_FeedsOnlyTheLastPromptToken()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] prompt = Prompt(12, 4);
        int[] cold = Ids(await scheduler.GenerateAsync(prompt, s_greedy).WaitAsync(s_timeout));

        int[] warm = Ids(await scheduler.GenerateAsync(prompt, s_greedy).WaitAsync(s_timeout));

        Assert.Equal(cold, warm);
        Assert.Equal([(0, 11)], decoder.Reuses);
    }

    [Fact]
    public async Task GenerateAsync_BudgetNeededByAnotherRequest_EvictsTheLeastRecentlyUsedParkedSlot()
    {
        // Room for one request at a time: each finished one stays parked until the next needs the budget.
        var decoder = new FakeBatchDecoder(maxBatchSize: 4);
        await using BatchScheduler scheduler = Scheduler(decoder, budget: 40);
        int[] a = Prompt(20, 5);
        int[] b = Prompt(20, 6);

        await scheduler.GenerateAsync(a, s_greedy).WaitAsync(s_timeout);
        Assert.Equal(29, scheduler.KvTokensInUse);
        Assert.Equal(1, decoder.SlotsInUse);

        GenerationResult second = await scheduler.GenerateAsync(b, s_greedy).WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(b, 10, []), Ids(second));
        Assert.Empty(decoder.Reuses);
        Assert.Equal(1, decoder.SlotsInUse);
        Assert.Equal(29, scheduler.KvTokensInUse);
    }

    [Fact]
    public async Task GenerateAsync_BudgetShort_EvictsParkedKvNoQueuedRequestContinuesBeforeAConversationsWaitingTurn()
    {
        // a's next turn waits in the queue behind c, which needs budget: least recently used alone would evict a's KV
        // (older than b's) just before its turn comes; the queued turn keeps it, and b goes instead.
        var decoder = new FakeBatchDecoder(maxBatchSize: 4);
        await using BatchScheduler scheduler = Scheduler(decoder, budget: 124);
        int[] a = Prompt(20, 11);
        int[] aAnswer = Ids(await scheduler.GenerateAsync(a, s_greedy).WaitAsync(s_timeout));
        await scheduler.GenerateAsync(Prompt(20, 12), s_greedy).WaitAsync(s_timeout);
        Assert.Equal(58, scheduler.KvTokensInUse);

        using var gate = new ManualResetEventSlim(false);
        decoder.Gate = gate;
        Task<GenerationResult> blocker = scheduler.GenerateAsync(Prompt(10, 13), s_greedy);
        await WaitUntil(() => decoder.Steps.Count(step => step.Any(row => row.TokenCount == 10)) == 1, "the blocker's prompt step is held");
        int[] c = Prompt(50, 14);
        int[] aNext = [.. a, .. aAnswer, 3, 4];
        Task<GenerationResult> cRun = scheduler.GenerateAsync(c, s_greedy);
        Task<GenerationResult> aRun = scheduler.GenerateAsync(aNext, s_greedy);
        await WaitUntil(() => scheduler.QueuedRequestCount == 2, "c and a's next turn are queued");
        gate.Set();
        await blocker.WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(c, 10, []), Ids(await cRun.WaitAsync(s_timeout)));
        Assert.Equal(decoder.ReferenceGreedy(aNext, 10, []), Ids(await aRun.WaitAsync(s_timeout)));
        Assert.Equal([(0, 29)], decoder.Reuses);
    }

    [Fact]
    public async Task GenerateAsync_AllSlotsParked_NewPromptTakesTheOldestSlot()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 2);
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] a = Prompt(10, 7);
        int[] b = Prompt(10, 8);
        await scheduler.GenerateAsync(a, s_greedy).WaitAsync(s_timeout);
        await scheduler.GenerateAsync(b, s_greedy).WaitAsync(s_timeout);
        Assert.Equal(2, decoder.SlotsInUse);

        int[] c = Prompt(10, 9);
        GenerationResult third = await scheduler.GenerateAsync(c, s_greedy).WaitAsync(s_timeout);
        // a's slot was the least recently used, so b's is still there to be found.
        GenerationResult again = await scheduler.GenerateAsync([.. b, 1], s_greedy).WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(c, 10, []), Ids(third));
        Assert.Equal(decoder.ReferenceGreedy([.. b, 1], 10, []), Ids(again));
        Assert.Equal([(1, 10)], decoder.Reuses);
        Assert.Equal([a.Length + 10, b.Length + 10, c.Length + 10], decoder.Allocations);
    }

    [Fact]
    public async Task GenerateAsync_CancelledDuringPrefill_IsNotParkedAndFreesEverything()
    {
        var decoder = new FakeBatchDecoder(maxSequenceLength: 4096) { StepDelay = TimeSpan.FromMilliseconds(5) };
        await using BatchScheduler scheduler = new(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { EosTokenIds = [0], PrefixReuse = true, PrefillChunkTokens = 4 });
        using var cancel = new CancellationTokenSource();
        Task<GenerationResult> running = scheduler.GenerateAsync(Prompt(400, 10), s_greedy, cancel.Token);
        await WaitUntil(() => decoder.Steps.Count >= 3, "the prompt is being read");

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running).WaitAsync(s_timeout);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 0 && decoder.SlotsInUse == 0 && scheduler.KvTokensInUse == 0, "everything was freed");
        Assert.True(decoder.Steps.Count < 100, "the prompt was cancelled before it was read");
    }

    [Fact]
    public async Task Metrics_HitsAndTokensSaved_AreCounted()
    {
        using var meter = new Meter("AutoGlm.PrefixReuseTests." + Guid.NewGuid());
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (counts)
            {
                counts[instrument.Name] = counts.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder, meter: meter);
        int[] first = Prompt(20, 11);

        int[] answer = Ids(await scheduler.GenerateAsync(first, s_greedy).WaitAsync(s_timeout));
        await scheduler.GenerateAsync([.. first, .. answer, 3], s_greedy).WaitAsync(s_timeout);
        await scheduler.GenerateAsync(Prompt(20, 12), s_greedy).WaitAsync(s_timeout);

        lock (counts)
        {
            Assert.Equal(3, counts["autoglm.prefix_cache.lookups"]);
            Assert.Equal(1, counts["autoglm.prefix_cache.hits"]);
            Assert.Equal(29, counts["autoglm.prefix_cache.tokens_saved"]);
        }
    }

    private static Task WaitUntil(Func<bool> condition, string what) => SchedulerTestHelpers.WaitUntil(condition, what, s_timeout);
}
