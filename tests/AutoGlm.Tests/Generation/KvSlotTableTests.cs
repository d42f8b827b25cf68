using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class KvSlotTableTests
{
    [Fact]
    public void TryPlace_UntilSlotsOrBudgetRunOut_ThenRemoveGivesBoth()
    {
        var decoder = new FakeBatchDecoder(maxBatchSize: 2, maxSequenceLength: 64);
        var table = new KvSlotTable(decoder, 100);

        Assert.Equal(0, table.TryPlace(60));
        Assert.Equal(-1, table.TryPlace(41));
        Assert.Equal(1, table.TryPlace(40));
        Assert.Equal(-1, table.TryPlace(1));
        Assert.Equal(2, decoder.SlotsInUse);
        Assert.Equal(100, table.Budget.TokensInUse);

        table.Remove(0, 60);

        Assert.Equal(1, table.SlotsInUse);
        Assert.Equal(40, table.Budget.TokensInUse);
        Assert.Equal(1, decoder.SlotsInUse);
        Assert.Equal(0, table.TryPlace(10));
    }

    [Fact]
    public void TryPlace_DecoderRefuses_LeavesNothingTaken()
    {
        // The fake decoder rejects a capacity beyond its context, as the ONNX decoder does.
        var decoder = new FakeBatchDecoder(maxBatchSize: 2, maxSequenceLength: 64);
        var table = new KvSlotTable(decoder, 1000);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => table.TryPlace(65));
        Assert.Equal("Slot 0 asked for 65 positions; the context is 64.", error.Message);

        Assert.Equal(0, table.SlotsInUse);
        Assert.Equal(0, table.Budget.TokensInUse);
        Assert.Equal(0, table.TryPlace(64));
    }
}
