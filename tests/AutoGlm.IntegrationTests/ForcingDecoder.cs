using AutoGlm.Generation;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// Wraps the real decoder and rewrites the logits so that each sequence emits <see cref="Forced"/> token by token
/// (then whatever the model likes): a way to steer a random model into, say, a tool call. Assumes each
/// prompt is prefilled in one step (set a large PrefillChunkTokens).
/// </summary>
internal sealed class ForcingDecoder : IBatchDecoder
{
    private readonly IBatchDecoder _inner;
    private readonly int[] _produced;

    public ForcingDecoder(IBatchDecoder inner, IReadOnlyList<int> forced)
    {
        _inner = inner;
        Forced = forced;
        _produced = new int[inner.MaxBatchSize];
    }

    public IReadOnlyList<int> Forced { get; }

    public int MaxBatchSize => _inner.MaxBatchSize;

    public int MaxSequenceLength => _inner.MaxSequenceLength;

    public int VocabularySize => _inner.VocabularySize;

    public void AllocateSlot(int slot, int tokenCapacity)
    {
        _produced[slot] = 0;
        _inner.AllocateSlot(slot, tokenCapacity);
    }

    public void ReuseSlot(int slot, int tokenCapacity, int keptLength)
    {
        _produced[slot] = 0;
        _inner.ReuseSlot(slot, tokenCapacity, keptLength);
    }

    public void FreeSlot(int slot) => _inner.FreeSlot(slot);

    public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
    {
        _inner.Step(rows, tokenIds, logits, cancellationToken);
        for (int i = 0; i < rows.Length; i++)
        {
            int n = _produced[rows[i].Slot]++;
            if (n < Forced.Count)
            {
                Span<float> row = logits.Slice(i * VocabularySize, VocabularySize);
                row.Fill(-1e9f);
                row[Forced[n]] = 0f;
            }
        }
    }
}
