using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class BatchSchedulerTests
{
    private const int Eos = 0;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static BatchScheduler Scheduler(FakeBatchDecoder decoder, BatchSchedulerOptions? options = null, Func<int, string>? text = null) =>
        new(decoder, new FakeTextDecoder(text), options ?? new BatchSchedulerOptions { EosTokenIds = [Eos] });

    private static int[] Prompt(int length, int salt) => SchedulerTestHelpers.Prompt(length, salt);

    private static int[] Ids(GenerationResult result) => SchedulerTestHelpers.Ids(result);

    private static Task WaitUntil(Func<bool> condition, string what) => SchedulerTestHelpers.WaitUntil(condition, what, s_timeout);

    [Fact]
    public async Task GenerateAsync_Greedy_MatchesTheModelDecodedByHand()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] prompt = Prompt(12, 1);
        var options = GenerationOptions.Greedy with { MaxNewTokens = 40, IgnoreEos = true };

        GenerationResult result = await scheduler.GenerateAsync(prompt, options).WaitAsync(s_timeout);

        int[] expected = decoder.ReferenceGreedy(prompt, 40, []);
        Assert.Equal(expected, Ids(result));
        Assert.Equal(string.Concat(expected.Select(id => $"<{id}>")), result.Text);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(new GenerationUsage(12, 40), result.Usage);
        Assert.Equal(Enumerable.Range(0, 40), result.Tokens.Select(t => t.Index));
        Assert.Equal(FinishReason.Length, result.Tokens[^1].FinishReason);
        Assert.All(result.Tokens.SkipLast(1), t => Assert.Null(t.FinishReason));
    }

    [Fact]
    public async Task GenerateAsync_EightStaggeredRequestsOfDifferentShapes_EachMatchesItsSoloRun()
    {
        int[] promptLengths = [3, 17, 40, 5, 64, 9, 1, 30];
        int[] maxTokens = [20, 7, 33, 50, 12, 41, 25, 3];
        int[][] prompts = promptLengths.Select((length, i) => Prompt(length, i)).ToArray();

        // Solo: each request alone on a fresh scheduler.
        var solo = new int[8][];
        for (int i = 0; i < 8; i++)
        {
            var alone = new FakeBatchDecoder(maxBatchSize: 4);
            await using BatchScheduler single = Scheduler(alone, new BatchSchedulerOptions { EosTokenIds = [Eos], PrefillChunkTokens = 16 });
            solo[i] = Ids(await single.GenerateAsync(prompts[i], GenerationOptions.Greedy with { MaxNewTokens = maxTokens[i] }).WaitAsync(s_timeout));
            Assert.Equal(alone.ReferenceGreedy(prompts[i], maxTokens[i], [Eos]), solo[i]);
        }

        // Batched: 4 slots, a budget that makes some wait, chunked prefill, arrivals spread over time.
        var decoder = new FakeBatchDecoder(maxBatchSize: 4) { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { EosTokenIds = [Eos], PrefillChunkTokens = 16, KvBudgetTokens = 160 });
        Task<GenerationResult>[] runs = new Task<GenerationResult>[8];
        for (int i = 0; i < 8; i++)
        {
            int index = i;
            runs[i] = Task.Run(async () =>
            {
                await Task.Delay(index * 3);
                return await scheduler.GenerateAsync(prompts[index], GenerationOptions.Greedy with { MaxNewTokens = maxTokens[index] });
            });
        }

        GenerationResult[] results = await Task.WhenAll(runs).WaitAsync(s_timeout);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(solo[i], Ids(results[i]));
        }

        Assert.True(decoder.Steps.Max(step => step.Length) > 1, "no step ever batched more than one row");
        Assert.True(decoder.MaxSlotsInUse <= 4);
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
    }

    [Fact]
    public async Task GenerateAsync_SeededSampling_IsReproducibleAloneAndInABatch()
    {
        var options = new GenerationOptions { Temperature = 0.9f, TopP = 0.95f, TopK = 40, RepetitionPenalty = 1.1f, Seed = 42, MaxNewTokens = 30, IgnoreEos = true };
        int[] prompt = Prompt(10, 3);
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);

        int[] first = Ids(await scheduler.GenerateAsync(prompt, options).WaitAsync(s_timeout));
        int[] second = Ids(await scheduler.GenerateAsync(prompt, options).WaitAsync(s_timeout));
        Task<GenerationResult>[] crowd = Enumerable.Range(0, 4)
            .Select(i => scheduler.GenerateAsync(Prompt(5 + i, 9 + i), options with { Seed = 100 + i }))
            .ToArray();
        int[] batched = Ids(await scheduler.GenerateAsync(prompt, options).WaitAsync(s_timeout));
        await Task.WhenAll(crowd).WaitAsync(s_timeout);
        int[] otherSeed = Ids(await scheduler.GenerateAsync(prompt, options with { Seed = 43 }).WaitAsync(s_timeout));

        Assert.Equal(first, second);
        Assert.Equal(first, batched);
        Assert.NotEqual(first, otherSeed);
    }

    // A scripted model: after token t comes t + 1 (so prompt [1] gives 2, 3, 4, ...).
    private static void Counting(ReadOnlySpan<int> history, Span<float> logits)
    {
        logits.Clear();
        logits[(history[^1] + 1) % logits.Length] = 10f;
    }

    [Fact]
    public async Task GenerateStreamingAsync_StopSequenceAcrossTokens_StopsAtTheRightCharacter()
    {
        string[] pieces = ["", "", "he", "llo wo", "rld", "!"];
        var decoder = new FakeBatchDecoder(logits: Counting);
        await using BatchScheduler scheduler = Scheduler(decoder, text: id => pieces[id]);
        var options = GenerationOptions.Greedy with { StopSequences = ["o wor"] };

        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync([1], options).WithCancellation(new CancellationTokenSource(s_timeout).Token))
        {
            tokens.Add(token);
        }

        Assert.Equal([2, 3, 4], tokens.Select(t => t.Id));
        Assert.Equal(["he", "ll", ""], tokens.Select(t => t.Text));
        Assert.Equal(FinishReason.Stop, tokens[^1].FinishReason);
        Assert.Equal(0, scheduler.KvTokensInUse);
    }

    [Fact]
    public async Task GenerateAsync_HeldBackPrefixWhenLengthEnds_IsReleased()
    {
        string[] pieces = ["", "", "ab", "EN"];
        var decoder = new FakeBatchDecoder(logits: Counting);
        await using BatchScheduler scheduler = Scheduler(decoder, text: id => pieces[id]);

        GenerationResult result = await scheduler.GenerateAsync([1], GenerationOptions.Greedy with { StopSequences = ["END"], MaxNewTokens = 2 }).WaitAsync(s_timeout);

        Assert.Equal("abEN", result.Text);
        Assert.Equal(["ab", "EN"], result.Tokens.Select(t => t.Text));
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Theory]
    [InlineData(false, new[] { 2, 3, 0 }, FinishReason.Stop)]
    [InlineData(true, new[] { 2, 3, 0, 1, 2 }, FinishReason.Length)]
    public async Task GenerateAsync_EosToken_StopsUnlessIgnored(bool ignoreEos, int[] expected, FinishReason reason)
    {
        var decoder = new FakeBatchDecoder(vocabularySize: 4, logits: Counting);
        await using BatchScheduler scheduler = Scheduler(decoder);

        GenerationResult result = await scheduler.GenerateAsync([1], GenerationOptions.Greedy with { MaxNewTokens = 5, IgnoreEos = ignoreEos }).WaitAsync(s_timeout);

        Assert.Equal(expected, Ids(result));
        Assert.Equal(reason, result.FinishReason);
        Assert.Equal(ignoreEos ? "<2><3><0><1><2>" : "<2><3>", result.Text);
    }

    [Fact]
    public async Task GenerateAsync_StopTokenId_StopsWithoutItsText()
    {
        var decoder = new FakeBatchDecoder(logits: Counting);
        await using BatchScheduler scheduler = Scheduler(decoder);

        GenerationResult result = await scheduler.GenerateAsync([5], GenerationOptions.Greedy with { StopTokenIds = [8] }).WaitAsync(s_timeout);

        Assert.Equal([6, 7, 8], Ids(result));
        Assert.Equal("<6><7>", result.Text);
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(3, result.Usage.CompletionTokens);
    }

    [Fact]
    public async Task GenerateStreamingAsync_OneCancelledMidStream_OthersUnchangedAndItsSlotFreed()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);
        var longRun = GenerationOptions.Greedy with { MaxNewTokens = 300, IgnoreEos = true };
        int[] promptB = Prompt(8, 1);
        int[] promptC = Prompt(21, 2);
        Task<GenerationResult> b = scheduler.GenerateAsync(promptB, longRun);
        Task<GenerationResult> c = scheduler.GenerateAsync(promptC, longRun);

        using var cancel = new CancellationTokenSource();
        int received = 0;
        Task streamA = Task.Run(async () =>
        {
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(Prompt(13, 3), longRun, cancel.Token))
            {
                if (++received == 5)
                {
                    cancel.Cancel();
                }
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streamA).WaitAsync(s_timeout);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 2, "the cancelled request left the batch");
        Assert.False(b.IsCompleted || c.IsCompleted, "the other requests finished too early for the check to mean anything");
        // Reserved by use, in whole blocks: far less than the two requests' limits, and the cancelled one's blocks are back.
        int reserved = scheduler.KvTokensInUse;
        Assert.True(reserved > 0 && reserved % KvCacheBudget.BlockTokens == 0 && reserved < (8 + 300) + (21 + 300), $"{reserved} positions reserved");
        Assert.Equal(2, decoder.SlotsInUse);
        Assert.Equal(5, received);

        GenerationResult[] others = await Task.WhenAll(b, c).WaitAsync(s_timeout);
        Assert.Equal(decoder.ReferenceGreedy(promptB, 300, []), Ids(others[0]));
        Assert.Equal(decoder.ReferenceGreedy(promptC, 300, []), Ids(others[1]));
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
    }

    [Fact]
    public async Task GenerateAsync_CancelledWhileQueued_LeavesTheQueueAndNeverRuns()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 1) { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);
        var options = GenerationOptions.Greedy with { MaxNewTokens = 150, IgnoreEos = true };
        int[] runningPrompt = Prompt(5, 1);
        Task<GenerationResult> running = scheduler.GenerateAsync(runningPrompt, options);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 1, "the first request runs");
        using var cancel = new CancellationTokenSource();
        Task<GenerationResult> queued = scheduler.GenerateAsync([42, 43], options, cancel.Token);
        Assert.Equal(1, scheduler.QueuedRequestCount);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued).WaitAsync(s_timeout);
        await WaitUntil(() => scheduler.QueuedRequestCount == 0, "the cancelled request left the queue");
        Assert.Equal(decoder.ReferenceGreedy(runningPrompt, 150, []), Ids(await running.WaitAsync(s_timeout)));
        Assert.DoesNotContain(decoder.Steps, step => step.Any(row => row.TokenCount == 2));
    }

    [Fact]
    public async Task GenerateStreamingAsync_ConsumerBreaksEarly_FreesTheSlot()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);

        await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(Prompt(4, 1), GenerationOptions.Greedy with { MaxNewTokens = 500, IgnoreEos = true }))
        {
            if (token.Index == 2)
            {
                break;
            }
        }

        await WaitUntil(() => scheduler.ActiveSequenceCount == 0 && scheduler.KvTokensInUse == 0 && decoder.SlotsInUse == 0, "the abandoned request freed its slot");
    }

    [Fact]
    public async Task GenerateAsync_QueueFull_ThrowsQueueFullExceptionWithTheCapacity()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 1) { StepDelay = TimeSpan.FromMilliseconds(2) };
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { QueueCapacity = 2 });
        var longRun = GenerationOptions.Greedy with { MaxNewTokens = 400, IgnoreEos = true };
        Task<GenerationResult> running = scheduler.GenerateAsync([1, 2], longRun);
        await WaitUntil(() => scheduler.ActiveSequenceCount == 1, "the first request runs");
        Task<GenerationResult> queued1 = scheduler.GenerateAsync([3], longRun);
        Task<GenerationResult> queued2 = scheduler.GenerateAsync([4], longRun);
        Assert.Equal(2, scheduler.QueuedRequestCount);

        var error = await Assert.ThrowsAsync<QueueFullException>(() => scheduler.GenerateAsync([5], longRun));

        Assert.Equal("The generation queue is full: 2 requests are already waiting for a slot. Retry later, or raise the queue capacity.", error.Message);
        await scheduler.DisposeAsync();
        foreach (Task<GenerationResult> task in new[] { running, queued1, queued2 })
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(() => task).WaitAsync(s_timeout);
        }
    }

    [Fact]
    public async Task GenerateAsync_PromptLongerThanContext_ThrowsStatingBothLengths()
    {
        var decoder = new FakeBatchDecoder(maxSequenceLength: 64);
        await using BatchScheduler scheduler = Scheduler(decoder);
        int[] prompt = Prompt(100, 1);
        const string message = "The prompt has 100 tokens but the model's context holds 64 (MaxSequenceLength), which leaves no room to generate; shorten the prompt to at most 63 tokens.";

        var error = await Assert.ThrowsAsync<ContextLengthExceededException>(() => scheduler.GenerateAsync(prompt));
        var streamingError = Assert.Throws<ContextLengthExceededException>(() => scheduler.GenerateStreamingAsync(prompt));

        Assert.Equal((100, 64), (error.PromptTokens, error.ContextLength));
        Assert.StartsWith(message, error.Message);
        Assert.StartsWith(message, streamingError.Message);
        Assert.Empty(decoder.Steps);
    }

    [Fact]
    public async Task GenerateAsync_MaxNewTokensBeyondContext_StopsWithLengthAtTheContextEnd()
    {
        var decoder = new FakeBatchDecoder(maxSequenceLength: 32);
        await using BatchScheduler scheduler = Scheduler(decoder);

        GenerationResult result = await scheduler.GenerateAsync(Prompt(20, 1), GenerationOptions.Greedy with { MaxNewTokens = 100, IgnoreEos = true }).WaitAsync(s_timeout);

        Assert.Equal(12, result.Tokens.Count);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public async Task GenerateAsync_RequestLargerThanKvBudget_FailsFastWithBothNumbers()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { KvBudgetTokens = 100 });

        var error = await Assert.ThrowsAsync<AutoGlmException>(() => scheduler.GenerateAsync(Prompt(50, 1), new GenerationOptions { MaxNewTokens = 60 }));

        Assert.Equal(
            "The request needs 110 tokens of KV cache (a prompt of 50 and up to 60 new tokens) but the KV budget holds 100 tokens in total, so it could never run; lower MaxNewTokens or shorten the prompt, or raise the KV budget.",
            error.Message);
    }

    [Fact]
    public async Task GenerateAsync_BudgetForOneFullRequest_BothRunByUseAndThePreemptedOneMatchesTheReference()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { KvBudgetTokens = 100 });
        var options = GenerationOptions.Greedy with { MaxNewTokens = 50, IgnoreEos = true };
        int[] first = Prompt(10, 1);
        int[] second = Prompt(10, 2);

        GenerationResult[] results = await Task.WhenAll(scheduler.GenerateAsync(first, options), scheduler.GenerateAsync(second, options)).WaitAsync(s_timeout);

        // Admitted by their prompts' blocks, both ran; 60 + 60 > 100, so one was preempted and recomputed.
        Assert.Equal(2, decoder.MaxSlotsInUse);
        Assert.True(scheduler.PreemptionCount >= 1, "nothing was preempted");
        Assert.Equal(0, scheduler.KvTokensInUse);
        Assert.Equal(0, decoder.SlotsInUse);
        Assert.Equal(decoder.ReferenceGreedy(first, 50, []), Ids(results[0]));
        Assert.Equal(decoder.ReferenceGreedy(second, 50, []), Ids(results[1]));
    }

    [Fact]
    public async Task GenerateAsync_HeadOfQueueDoesNotFitYet_LaterSmallRequestDoesNotOvertakeIt()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(5) };
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { KvBudgetTokens = 100 });
        var options = GenerationOptions.Greedy with { IgnoreEos = true };
        Task<GenerationResult> first = scheduler.GenerateAsync(Prompt(40, 1), options with { MaxNewTokens = 50 });
        await WaitUntil(() => scheduler.ActiveSequenceCount == 1, "the first request runs");
        Task<GenerationResult> large = scheduler.GenerateAsync(Prompt(60, 2), options with { MaxNewTokens = 30 });
        await WaitUntil(() => scheduler.QueuedRequestCount == 1, "the large request waits");
        Task<GenerationResult> small = scheduler.GenerateAsync(Prompt(2, 3), options with { MaxNewTokens = 3 });

        await Task.WhenAll(first, large, small).WaitAsync(s_timeout);

        // The large prompt's 64 positions never fit beside the first (48 and growing); the small request (16, which
        // would have fit) waited its turn behind it.
        Assert.Equal([90, 90, 5], decoder.Allocations.Take(3));
    }

    [Fact]
    public async Task DisposeAsync_WhileEightRequestsStream_EndsThemAllPromptly()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(2) };
        var scheduler = Scheduler(decoder);
        var options = GenerationOptions.Greedy with { MaxNewTokens = 400, IgnoreEos = true };
        int[] received = new int[8];
        Task[] streams = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(Prompt(3 + i, i), options))
            {
                Interlocked.Increment(ref received[i]);
            }
        })).ToArray();
        await WaitUntil(() => received.All(count => Volatile.Read(ref count) > 0), "every stream has a token");

        await scheduler.DisposeAsync().AsTask().WaitAsync(s_timeout);

        foreach (Task stream in streams)
        {
            Exception? error = await Record.ExceptionAsync(() => stream.WaitAsync(s_timeout));
            Assert.True(error is ObjectDisposedException or OperationCanceledException, $"a stream ended with {error?.GetType().Name ?? "no exception"}");
        }

        Assert.Equal(0, decoder.SlotsInUse);
        Assert.Equal(0, scheduler.KvTokensInUse);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => scheduler.GenerateAsync([1]));
        scheduler.Dispose();
    }

    [Fact]
    public async Task PrefillStep_LongPromptArrivesWhileAnotherDecodes_IsChunkedBetweenDecodeSteps()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { PrefillChunkTokens = 16 });
        var options = GenerationOptions.Greedy with { MaxNewTokens = 100, IgnoreEos = true };
        var decoding = new List<GeneratedToken>();
        Task first = Task.Run(async () =>
        {
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync([1, 2, 3], options))
            {
                lock (decoding)
                {
                    decoding.Add(token);
                }
            }
        });
        await WaitUntil(() => { lock (decoding) { return decoding.Count > 0; } }, "the first request decodes");
        int[] longPrompt = Prompt(100, 5);

        GenerationResult second = await scheduler.GenerateAsync(longPrompt, options with { MaxNewTokens = 5 }).WaitAsync(s_timeout);
        await first.WaitAsync(s_timeout);

        Assert.Equal(decoder.ReferenceGreedy(longPrompt, 5, []), Ids(second));
        IReadOnlyList<DecoderRow[]> steps = decoder.Steps;
        Assert.All(steps, step => Assert.True(step.Sum(row => row.TokenCount) <= 16 || step.All(row => row.TokenCount == 1)));
        int[] prefillSteps = steps.Select((step, i) => (step, i)).Where(x => x.step.Any(row => row.TokenCount > 1 && row.PastLength + row.TokenCount > 3)).Select(x => x.i).ToArray();
        Assert.Equal(7, prefillSteps.Length);
        for (int i = 1; i < prefillSteps.Length; i++)
        {
            Assert.True(prefillSteps[i] - prefillSteps[i - 1] >= 2, "a decode step must run between two prefill chunks");
        }
    }

    [Fact]
    public async Task PrefillStep_PromptsQueuedTogether_JoinAStepOnlyWholeAndTheRestLeadTheNext()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder, new BatchSchedulerOptions { EosTokenIds = [Eos], PrefillChunkTokens = 24 });
        var options = GenerationOptions.Greedy with { MaxNewTokens = 3, IgnoreEos = true };
        using var gate = new ManualResetEventSlim(false);
        decoder.Gate = gate;
        Task<GenerationResult> blocker = scheduler.GenerateAsync([1, 2], options with { MaxNewTokens = 1 });
        await WaitUntil(() => decoder.Steps.Count == 1, "the first step is held");
        int[][] prompts = [Prompt(10, 1), Prompt(11, 2), Prompt(12, 3), Prompt(40, 4)];
        Task<GenerationResult>[] runs = [.. prompts.Select(p => scheduler.GenerateAsync(p, options))];
        await WaitUntil(() => scheduler.QueuedRequestCount == prompts.Length, "all prompts are queued");
        gate.Set();
        await blocker.WaitAsync(s_timeout);
        GenerationResult[] results = await Task.WhenAll(runs).WaitAsync(s_timeout);

        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(decoder.ReferenceGreedy(prompts[i], 3, []), Ids(results[i]));
        }

        // 10 + 11 fill the first step (12 does not fit whole and waits); 12 leads the next, where the 40-token
        // prompt does not fit whole either; alone in the step after, it is chunked 24 + 16 as before.
        DecoderRow[][] prefills = [.. decoder.Steps.Skip(1).Where(step => step.Any(row => row.TokenCount > 1))];
        Assert.Equal([[10, 11], [12], [24], [16]], prefills.Select(step => step.Select(row => row.TokenCount).ToArray()));
        Assert.Equal([0, 0, 0, 24], prefills.Select(step => step[0].PastLength));
    }

    [Fact]
    public async Task Step_FailsForOneRequest_OthersKeepRunning()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);
        var options = GenerationOptions.Greedy with { MaxNewTokens = 60, IgnoreEos = true };
        int[] healthyPrompt = Prompt(6, 1);
        int[] expected = decoder.ReferenceGreedy(healthyPrompt, 60, []);
        int poison = Enumerable.Range(1, 96).First(id => !expected.Contains(id) && !healthyPrompt.Contains(id));
        decoder.PoisonToken = poison;
        var seen = new TaskCompletionSource();
        var healthy = Task.Run(async () =>
        {
            var ids = new List<int>();
            await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(healthyPrompt, options))
            {
                ids.Add(token.Id);
                seen.TrySetResult();
            }

            return ids.ToArray();
        });
        await seen.Task.WaitAsync(s_timeout);

        var error = await Assert.ThrowsAsync<AutoGlmException>(() => scheduler.GenerateAsync([5, poison, 7], options)).WaitAsync(s_timeout);

        Assert.Equal($"Poisoned token {poison} fed to the fake model.", error.Message);
        Assert.Equal(expected, await healthy.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Step_RunsOnTheSchedulerThreadOnly()
    {
        var decoder = new FakeBatchDecoder();
        await using BatchScheduler scheduler = Scheduler(decoder);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => scheduler.GenerateAsync(Prompt(4, i), GenerationOptions.Greedy with { MaxNewTokens = 5 }))).WaitAsync(s_timeout);

        int thread = Assert.Single(decoder.StepThreads);
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
    }

    [Fact]
    public async Task GenerateAsync_Timings_AreOrderedAndConsistent()
    {
        var decoder = new FakeBatchDecoder() { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using BatchScheduler scheduler = Scheduler(decoder);

        GenerationResult result = await scheduler.GenerateAsync(Prompt(5, 1), GenerationOptions.Greedy with { MaxNewTokens = 10, IgnoreEos = true }).WaitAsync(s_timeout);

        GenerationTimings timings = result.Timings;
        Assert.True(timings.QueueTime <= timings.TimeToFirstToken);
        Assert.True(timings.TimeToFirstToken < timings.TotalTime);
        Assert.Equal(timings.TimeToFirstToken, result.Tokens[0].Elapsed);
        Assert.Equal(timings.TotalTime, result.Tokens[^1].Elapsed);
        Assert.Equal((timings.TotalTime - timings.TimeToFirstToken) / 9, timings.TimePerOutputToken);
        Assert.True(timings.TimePerOutputToken >= TimeSpan.FromMilliseconds(0.9));
    }
}
