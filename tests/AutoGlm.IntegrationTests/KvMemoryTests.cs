using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Runtime;

namespace AutoGlm.IntegrationTests;

/// <summary>KV memory by use (pages the kernel really holds) and preemption on the real tiny model.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class KvMemoryTests
{
    private readonly TinyModelFixture _fixture;

    public KvMemoryTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [SkippableTheory]
    [InlineData(256)]
    [InlineData(16)]
    public void Step_ResidentPages_MatchTheAccountingAndDropWhenSlotsAreFreed(int lengthGranularity)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "KV pages are committed lazily and counted only on Linux.");
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 4, info.ContextLength, lengthGranularity);
        KvCacheStorage storage = decoder.Storage;
        // mincore reads lazily freed pages as resident until the kernel reclaims them: return them at once here.
        storage.ReturnPagesAtOnce = true;
        long page = Environment.SystemPageSize;
        float[] logits = new float[4 * info.VocabularySize];
        void Check(string when)
        {
            long resident = storage.CountResidentPages() * page;
            Assert.True(resident == decoder.KvBytesResident, $"{when}: mincore says {resident} bytes, the accounting {decoder.KvBytesResident}");
            Assert.True(resident <= decoder.KvBytesAllocated + (2 * info.LayerCount * page), $"{when}: {resident} resident of {decoder.KvBytesAllocated} mapped");
        }

        Assert.True(storage.IsPaged);
        decoder.AllocateSlot(0, 200);
        Check("allocated, nothing written");
        Assert.Equal(0, decoder.KvBytesResident);

        decoder.Step([new DecoderRow(0, 0, 5)], [5, 17, 300, 42, 9], logits, CancellationToken.None);
        Check("5 tokens in slot 0");
        if (lengthGranularity == 256)
        {
            // Row slices are whole pages here: each (layer, key/value, head) holds one page for 5 positions.
            Assert.Equal(2L * info.LayerCount * info.KeyValueHeadCount * page, decoder.KvBytesResident);
        }

        // Slot 2 with a long prompt, slot 1 allocated but idle (a filler row in the decode range).
        decoder.AllocateSlot(1, 200);
        decoder.AllocateSlot(2, 200);
        int[] longPrompt = [.. Enumerable.Range(0, 150).Select(i => 3 + (i % 300))];
        decoder.Step([new DecoderRow(2, 0, longPrompt.Length)], longPrompt, logits, CancellationToken.None);
        Check("150 tokens in slot 2");
        for (int step = 0; step < 20; step++)
        {
            decoder.Step([new DecoderRow(0, 5 + step, 1), new DecoderRow(2, 150 + step, 1)], [7 + step, 11 + step], logits, CancellationToken.None);
            Check($"decode step {step}");
        }

        long beforeFree = decoder.KvBytesResident;
        decoder.FreeSlot(2);
        Check("slot 2 freed");
        Assert.True(decoder.KvBytesResident < beforeFree - (100 * info.KvBytesPerToken), $"freeing 170 tokens gave back only {beforeFree - decoder.KvBytesResident} bytes");

        // The freed slot sits between decoding ones: its filler position takes a page again, and is counted.
        decoder.AllocateSlot(3, 200);
        decoder.Step([new DecoderRow(3, 0, 3)], [1, 2, 3], logits, CancellationToken.None);
        decoder.Step([new DecoderRow(0, 25, 1), new DecoderRow(3, 3, 1)], [4, 5], logits, CancellationToken.None);
        Check("fillers in slots 1 and 2");

        // Once no decode range covers the free slot 2, its filler pages go back.
        long withFiller = decoder.KvBytesResident;
        decoder.Step([new DecoderRow(0, 26, 1)], [6], logits, CancellationToken.None);
        Check("slot 0 decodes alone");
        Assert.True(decoder.KvBytesResident < withFiller, "the free slot's filler pages were kept");
        decoder.Step([new DecoderRow(0, 27, 1), new DecoderRow(3, 4, 1)], [6, 7], logits, CancellationToken.None);
        Check("fillers again");

        // Prefix reuse hands slot 1 (now 100 tokens) to a sequence that keeps 10: the pages past them go back.
        decoder.Step([new DecoderRow(1, 0, 100)], [.. longPrompt.Take(100)], logits, CancellationToken.None);
        Check("100 tokens in slot 1");
        long beforeReuse = decoder.KvBytesResident;
        decoder.ReuseSlot(1, 200, 10);
        Check("slot 1 reused keeping 10");
        Assert.True(decoder.KvBytesResident < beforeReuse, "the reused slot kept the pages past its prefix");
        decoder.Step([new DecoderRow(1, 10, 5)], [1, 2, 3, 4, 5], logits, CancellationToken.None);
        Check("slot 1 continues after its prefix");

        decoder.FreeSlot(0);
        decoder.FreeSlot(3);
        decoder.FreeSlot(1);
        Assert.Equal(0, decoder.KvBytesResident);
        Check("every slot freed");
        if (lengthGranularity == 16)
        {
            // Rows grew past the shortest width: they are re-laid at it, so the next sequences start narrow again.
            Assert.Equal(storage.Rows * 16 * info.KvBytesPerToken, decoder.KvBytesAllocated);
        }
    }

    [SkippableFact]
    public void FreeSlot_PagesGoBackLazily_StayMappedForTheNextWriteWhileTheAccountingDrops()
    {
        // Why pages go back with MADV_FREE: with MADV_DONTNEED every request faulted its KV pages in afresh. Lazily
        // freed pages stay mapped (the kernel takes them only under memory pressure), so writing them again faults nothing.
        Skip.IfNot(OperatingSystem.IsLinux(), "KV pages are committed lazily and counted only on Linux.");
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, info.ContextLength);
        KvCacheStorage storage = decoder.Storage;
        float[] logits = new float[info.VocabularySize];
        int[] prompt = [.. Enumerable.Range(0, Math.Min(120, info.ContextLength - 8)).Select(i => 3 + (i % 300))];

        // Slot 0 holds two tokens throughout, so the mapping stays and only slot 1's pages come and go.
        decoder.AllocateSlot(0, 8);
        decoder.Step([new DecoderRow(0, 0, 2)], [5, 6], logits, CancellationToken.None);
        long idle = storage.CountResidentPages();
        long idleHeld = decoder.KvBytesResident;

        (long Before, long Written, long Freed) FillThenFree(bool atOnce)
        {
            storage.ReturnPagesAtOnce = atOnce;
            long before = storage.CountResidentPages();
            decoder.AllocateSlot(1, prompt.Length + 1);
            decoder.Step([new DecoderRow(1, 0, prompt.Length)], prompt, logits, CancellationToken.None);
            long written = storage.CountResidentPages();
            decoder.FreeSlot(1);
            return (before, written, storage.CountResidentPages());
        }

        var lazily = FillThenFree(atOnce: false);
        long heldAfterLazyFree = decoder.KvBytesResident;
        var atOnce = FillThenFree(atOnce: true);

        Assert.Equal(idle, lazily.Before);
        Assert.True(lazily.Written > idle, "the prompt wrote no page");
        Assert.Equal(lazily.Written, lazily.Freed); // lazily freed pages stay mapped ...
        Assert.Equal(idleHeld, heldAfterLazyFree); // ... while the accounting gives them back
        Assert.Equal(atOnce.Before, atOnce.Written); // written again, they took no new page
        Assert.Equal(idle, atOnce.Freed); // given back at once, they leave the mapping
    }

    [SkippableFact]
    public void FreeSlot_WideRowsGoIdle_NarrowInTheSameMappingSoTheNextWideRequestTakesNoNewPage()
    {
        // Unmapping wide rows when idle made the next long request fault every KV page in again (and every growth
        // mapped fresh blocks); inside the reserved address space both re-lay in place.
        Skip.IfNot(OperatingSystem.IsLinux(), "KV pages are committed lazily and counted only on Linux.");
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, info.ContextLength, lengthGranularity: 16);
        KvCacheStorage storage = decoder.Storage;
        int[] prompt = [.. Enumerable.Range(0, Math.Min(120, info.ContextLength - 8)).Select(i => 3 + (i % 300))];

        float[] Run()
        {
            float[] logits = new float[info.VocabularySize];
            decoder.AllocateSlot(0, prompt.Length + 1);
            decoder.Step([new DecoderRow(0, 0, 16)], prompt.AsSpan(0, 16), logits, CancellationToken.None);
            decoder.Step([new DecoderRow(0, 16, prompt.Length - 16)], prompt.AsSpan(16), logits, CancellationToken.None);
            decoder.FreeSlot(0);
            return logits;
        }

        float[] first = Run();
        long mapped = storage.CountResidentPages();
        Assert.Equal(16, storage.Length);
        Assert.Equal(0, decoder.KvBytesResident);
        float[] second = Run();

        Assert.True(mapped > 0, "the lazily freed pages left the mapping");
        Assert.Equal(mapped, storage.CountResidentPages());
        OnnxBatchDecoderTests.AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, prompt), first);
        OnnxBatchDecoderTests.AssertClose(first, second);
    }

    [Fact]
    public void Narrow_WhileARowHoldsPositions_Throws()
    {
        using var storage = new KvCacheStorage(2, 2, 8, TensorElementType.Float);
        storage.ReserveAddressSpace(2, 64);
        storage.EnsureCapacity(2, 32);
        storage.MarkWritten(1, 3);

        var ex = Assert.Throws<InvalidOperationException>(() => storage.Narrow(16));

        Assert.Equal("Only an empty KV cache can be narrowed; discard every row first.", ex.Message);
        storage.Discard(1);
        storage.Narrow(16);
        Assert.Equal(16, storage.Length);
        Assert.Equal(2, storage.Rows);
    }

    [Fact]
    public void ImportSlot_PrefixOfAnExportedSlot_ContinuesLikeTheRecomputedPrefix()
    {
        // Prefix reuse copies kept KV out of its slot and back into another; a later prompt may share only its start.
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, info.ContextLength);
        float[] logits = new float[info.VocabularySize];
        int[] kept = [.. Enumerable.Range(0, 30).Select(i => 3 + (i * 11 % 300))];
        decoder.AllocateSlot(0, 40);
        decoder.Step([new DecoderRow(0, 0, kept.Length)], kept, logits, CancellationToken.None);
        using ParkedKv parked = decoder.ExportSlot(0, kept.Length)!;
        decoder.FreeSlot(0);
        Assert.Equal(kept.Length * info.KvBytesPerToken, decoder.KvBytesResident);

        foreach (int prefix in new[] { 10, kept.Length })
        {
            decoder.AllocateSlot(1, 40);
            decoder.ImportSlot(1, parked, prefix);
            decoder.Step([new DecoderRow(1, prefix, 1)], [77], logits, CancellationToken.None);
            OnnxBatchDecoderTests.AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, [.. kept.Take(prefix), 77]), logits);
            decoder.FreeSlot(1);
        }
    }

    [Fact]
    public void Step_AfterGrowthAndFree_KeepsEveryRowsLogits()
    {
        // Growth copies only held prefixes and a freed row's pages go back: the other rows must be untouched.
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 3, info.ContextLength, lengthGranularity: 16);
        float[] logits = new float[info.VocabularySize];
        int[] a = [5, 17, 300, 42, 9];
        int[] b = [.. Enumerable.Range(0, 40).Select(i => 3 + (i * 7 % 300))];
        decoder.AllocateSlot(0, 200);
        decoder.AllocateSlot(1, 200);
        decoder.AllocateSlot(2, 200);
        decoder.Step([new DecoderRow(0, 0, a.Length)], a, logits, CancellationToken.None);
        decoder.Step([new DecoderRow(1, 0, 20)], b.AsSpan(0, 20), logits, CancellationToken.None);
        decoder.FreeSlot(1);
        decoder.Step([new DecoderRow(2, 0, b.Length)], b, logits, CancellationToken.None);
        OnnxBatchDecoderTests.AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, b), logits);

        decoder.Step([new DecoderRow(0, a.Length, 1)], [77], logits, CancellationToken.None);

        OnnxBatchDecoderTests.AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, [.. a, 77]), logits);
    }

    [Fact]
    public async Task GenerateAsync_TightKvBudget_PreemptedRequestsMatchTheirSoloRunsAndEverythingIsFreed()
    {
        await using GlmModel solo = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        // 200 positions: each request alone fits (at most 30 + 120), four together need up to 560.
        await using GlmModel tight = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4, KvBudgetTokens = 200, PrefillChunkTokens = 16, WarmUp = false });
        string[] prompts = ["The quick brown fox jumps over the lazy dog", "你好，世界", "1 2 3 4 5 6 7 8 9 10", "A longer prompt, so that its prefill takes a few chunks of sixteen tokens each"];
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = 110, IgnoreEos = true };

        var expected = new List<int[]>();
        foreach (string prompt in prompts)
        {
            expected.Add([.. (await solo.GenerateAsync(prompt, options)).Tokens.Select(t => t.Id)]);
        }

        GenerationResult[] results = await Task.WhenAll(prompts.Select(p => tight.GenerateAsync(p, options)));

        Assert.True(tight.KvPreemptions >= 1, "nothing was preempted, so the test shows nothing");
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], results[i].Tokens.Select(t => t.Id).ToArray());
            Assert.Equal(Enumerable.Range(0, 110), results[i].Tokens.Select(t => t.Index));
        }

        Assert.Equal(0, tight.KvTokensInUse);
        Assert.Equal(0, tight.ActiveRequestCount);
        Assert.Equal(0, tight.KvBytesResident);
        Assert.Equal(0, tight.KvBytesResident);
    }

    [Fact]
    public async Task GenerateAsync_CancelledWhilePrefillingOrPreempted_FreesTokensBytesAndSlots()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4, KvBudgetTokens = 160, PrefillChunkTokens = 4, WarmUp = false });
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = 100, IgnoreEos = true };
        using var cancel = new CancellationTokenSource();
        IReadOnlyList<int> prompt = model.Tokenizer.Encode("Tell me a long story about a fox and a dog, please.");
        Task<GenerationResult>[] runs = [.. Enumerable.Range(0, 4).Select(i => model.GenerateAsync([.. prompt, 10 + i], options, cancel.Token))];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (model.KvPreemptions == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }

        Assert.True(model.KvPreemptions > 0, "nothing was preempted before the cancellation");
        await cancel.CancelAsync();
        foreach (Task<GenerationResult> run in runs)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        while ((model.ActiveRequestCount > 0 || model.QueuedRequestCount > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }

        Assert.Equal(0, model.ActiveRequestCount);
        Assert.Equal(0, model.QueuedRequestCount);
        Assert.Equal(0, model.KvTokensInUse);
        Assert.Equal(0, model.KvSequencesHeld);
        Assert.Equal(0, model.KvBytesResident);
    }
}
