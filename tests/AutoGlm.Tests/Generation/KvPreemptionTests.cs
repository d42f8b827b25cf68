using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

/// <summary>KV reserved by use in blocks, and preemption (drop and recompute) when a running sequence needs a block that is not free.</summary>
public sealed class KvPreemptionTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static int[] Prompt(int length, int salt) => SchedulerTestHelpers.Prompt(length, salt);

    private static int[] Ids(GenerationResult result) => SchedulerTestHelpers.Ids(result);

    private static Task WaitUntil(Func<bool> condition, string what) => SchedulerTestHelpers.WaitUntil(condition, what, s_timeout);

    [Theory]
    [InlineData(1, 16, 16)]
    [InlineData(16, 100, 16)]
    [InlineData(17, 100, 32)]
    [InlineData(17, 20, 20)]
    [InlineData(0, 5, 0)]
    public void ReservationFor_RoundsUpToBlocksButNotPastTheMost(int positions, int maxPositions, int expected)
    {
        Assert.Equal(expected, KvCacheBudget.ReservationFor(positions, maxPositions));
    }

    [Fact]
    public void TryGrow_BudgetShort_EvictsParkedSlotsFirstThenRefusesWithNothingTaken()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 4, maxSequenceLength: 64);
        var table = new KvSlotTable(decoder, 100);
        int parked = table.TryPlace(40);
        int running = table.TryPlace(32);
        table.Park(parked, 40, Prompt(40, 1), 30);
        Assert.Equal(62, table.Budget.TokensInUse);

        Assert.True(table.TryGrow(48));

        Assert.Equal(0, table.ParkedCount);
        Assert.Equal(1, decoder.SlotsInUse);
        Assert.Equal(80, table.Budget.TokensInUse);
        Assert.False(table.TryGrow(32));
        Assert.Equal(80, table.Budget.TokensInUse);
        table.Remove(running, 80);
        Assert.Equal(0, table.Budget.TokensInUse);
        Assert.Equal(0, table.SlotsInUse);
    }

    [Fact]
    public async Task GenerateAsync_ReservationsFollowTheTokensHeld_InWholeBlocks()
    {
        // The fake model reads the reservation while it runs each step, on the loop thread: exact, whatever the reader does.
        BatchScheduler? scheduler = null;
        var seen = new List<(int Held, int Reserved)>();
        var decoder = new FakeBatchDecoder(logits: (history, logits) =>
        {
            seen.Add((history.Length, scheduler!.KvTokensInUse));
            FakeBatchDecoder.HashLogits(history, logits);
        });
        await using (scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { KvBudgetTokens = 1000 }))
        {
            await scheduler.GenerateAsync(Prompt(20, 1), GenerationOptions.Greedy with { MaxNewTokens = 60, IgnoreEos = true }).WaitAsync(s_timeout);
            Assert.Equal(0, scheduler.KvTokensInUse);
        }

        // One prefill of 20 and 59 decodes; each step ran holding the blocks of the positions fed so far, no more.
        Assert.Equal(Enumerable.Range(20, 60), seen.Select(s => s.Held));
        Assert.All(seen, s => Assert.Equal(KvCacheBudget.ReservationFor(s.Held, 80), s.Reserved));
    }

    [Fact]
    public async Task GenerateAsync_SeededSamplingPreempted_SameTokensAsAloneAndNoTokenTwice()
    {
        // Penalties, top-k/top-p and a random stream: a preempted sequence must continue all of them where it was.
        var options = new GenerationOptions { Temperature = 0.9f, TopP = 0.95f, TopK = 40, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.2f, MaxNewTokens = 70, IgnoreEos = true };
        int[][] prompts = [Prompt(12, 1), Prompt(25, 2), Prompt(7, 3), Prompt(30, 4)];
        var alone = new List<int[]>();
        foreach ((int[] prompt, int i) in prompts.Select((p, i) => (p, i)))
        {
            await using var single = new BatchScheduler(new FakeBatchDecoder(), new FakeTextDecoder());
            alone.Add(Ids(await single.GenerateAsync(prompt, options with { Seed = 100 + i }).WaitAsync(s_timeout)));
        }

        // 100 positions: every request alone fits (at most 30 + 70), four together need up to 334.
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { KvBudgetTokens = 100 });
        var indices = new List<int>[prompts.Length];
        Task<int[]>[] runs = [.. prompts.Select((prompt, i) => Task.Run(async () =>
        {
            indices[i] = [];
            var ids = new List<int>();
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(prompt, options with { Seed = 100 + i }))
            {
                indices[i].Add(token.Index);
                ids.Add(token.Id);
            }

            return ids.ToArray();
        }))];
        int[][] results = await Task.WhenAll(runs).WaitAsync(s_timeout);

        Assert.True(scheduler.PreemptionCount >= 1, "nothing was preempted, so the test shows nothing");
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i], results[i]);
            Assert.Equal(Enumerable.Range(0, 70), indices[i]);
        }

        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
        Assert.Equal(0, scheduler.ActiveSequenceCount);
    }

    [Fact]
    public async Task GenerateAsync_ManyGreedyUnderATightBudget_AllFinishLikeTheReferenceAndNoneFails()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 6) { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { KvBudgetTokens = 128, PrefillChunkTokens = 8, PrefixReuse = true });
        int[][] prompts = [.. Enumerable.Range(0, 12).Select(i => Prompt(5 + (i * 7 % 40), i))];
        int[] limits = [.. Enumerable.Range(0, 12).Select(i => 20 + (i * 13 % 60))];
        int lowest = int.MaxValue;
        int highest = 0;
        using var stop = new CancellationTokenSource();
        Task watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                int used = scheduler.KvTokensInUse;
                lowest = Math.Min(lowest, used);
                highest = Math.Max(highest, used);
                await Task.Yield();
            }
        });

        GenerationResult[] results = await Task.WhenAll(prompts.Select((p, i) => Task.Run(() => scheduler.GenerateAsync(p, GenerationOptions.Greedy with { MaxNewTokens = limits[i], IgnoreEos = true })))).WaitAsync(s_timeout);
        await stop.CancelAsync();
        await watcher;

        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(decoder.ReferenceGreedy(prompts[i], limits[i], []), Ids(results[i]));
        }

        Assert.True(scheduler.PreemptionCount >= 1, "nothing was preempted");
        Assert.InRange(lowest, 0, 128);
        Assert.InRange(highest, 1, 128);
        // Only parked slots may hold budget now; evicting them gives it all back.
        await scheduler.DisposeAsync();
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
    }

    [Fact]
    public async Task GenerateAsync_CancelledWhilePreempted_FreesEverythingAndTheOtherFinishes()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(5) };
        await using var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { KvBudgetTokens = 100 });
        var options = GenerationOptions.Greedy with { MaxNewTokens = 70, IgnoreEos = true };
        int[] older = Prompt(20, 1);
        Task<GenerationResult> first = scheduler.GenerateAsync(older, options);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 1, "the first request runs");
        using var cancel = new CancellationTokenSource();
        int received = 0;
        Task younger = Task.Run(async () =>
        {
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(Prompt(20, 2), options, cancel.Token))
            {
                received++;
            }
        });

        await WaitUntil(() => scheduler.PreemptionCount >= 1 && scheduler.QueuedRequestCount == 1, "the younger request is preempted and waits");
        Assert.True(received > 0, "the preempted request had streamed nothing");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => younger).WaitAsync(s_timeout);
        await WaitUntil(() => scheduler.QueuedRequestCount == 0, "the cancelled request left the queue");
        Assert.Equal(decoder.ReferenceGreedy(older, 70, []), Ids(await first.WaitAsync(s_timeout)));
        await WaitUntil(() => scheduler.ActiveSequenceCount == 0, "the first request retired");
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
    }

    [Fact]
    public async Task GenerateAsync_CancelledDuringPrefill_FreesItsSlotAndBlocks()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(5) };
        await using var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { PrefillChunkTokens = 4, KvBudgetTokens = 200 });
        using var cancel = new CancellationTokenSource();
        Task<GenerationResult> run = scheduler.GenerateAsync(Prompt(100, 1), GenerationOptions.Greedy with { MaxNewTokens = 10 }, cancel.Token);
        await WaitUntil(() => decoder.Steps.Count >= 2, "prefill started");
        // The prompt's blocks (112), capped at the most the request can hold (110).
        Assert.Equal(110, scheduler.KvTokensInUse);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run).WaitAsync(s_timeout);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 0, "the request retired");
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
        Assert.True(decoder.Steps.Count < 25, "the prompt was prefilled to the end");
    }

    [Fact]
    public async Task GenerateAsync_PromptBlocksNotFreeYet_WaitsInsteadOfFailing()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var scheduler = new BatchScheduler(decoder, new FakeTextDecoder(), new BatchSchedulerOptions { KvBudgetTokens = 100 });
        var options = GenerationOptions.Greedy with { MaxNewTokens = 20, IgnoreEos = true };
        Task<GenerationResult> first = scheduler.GenerateAsync(Prompt(70, 1), options);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 1, "the first request runs");

        Task<GenerationResult> second = scheduler.GenerateAsync(Prompt(50, 2), options);
        await WaitUntil(() => scheduler.QueuedRequestCount == 1 || second.IsCompleted, "the second request is queued");

        GenerationResult[] results = await Task.WhenAll(first, second).WaitAsync(s_timeout);
        Assert.Equal(decoder.ReferenceGreedy(Prompt(50, 2), 20, []), Ids(results[1]));
        Assert.Equal(1, decoder.MaxSlotsInUse);
    }
}
