using AutoGlm.Generation;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// Wraps the real decoder: its first step waits at a gate (so requests submitted meanwhile are admitted together),
/// and a hook may rewrite the tokens of any step before the real decoder runs it.
/// </summary>
internal sealed class GatedDecoder : IBatchDecoder
{
    private readonly IBatchDecoder _inner;
    private int _steps;

    public GatedDecoder(IBatchDecoder inner)
    {
        _inner = inner;
    }

    /// <summary>Set once the first step has started (and is waiting at <see cref="Release"/>).</summary>
    public ManualResetEventSlim FirstStepEntered { get; } = new(false);

    /// <summary>The first step goes on once this is set.</summary>
    public ManualResetEventSlim Release { get; } = new(false);

    /// <summary>Called for every step after the first with its rows and tokens; returns the tokens to run.</summary>
    public Func<DecoderRow[], int[], int[]>? OnStep { get; set; }

    public int MaxBatchSize => _inner.MaxBatchSize;

    public int MaxSequenceLength => _inner.MaxSequenceLength;

    public int VocabularySize => _inner.VocabularySize;

    public void AllocateSlot(int slot, int tokenCapacity) => _inner.AllocateSlot(slot, tokenCapacity);

    public void ReuseSlot(int slot, int tokenCapacity, int keptLength) => _inner.ReuseSlot(slot, tokenCapacity, keptLength);

    public void FreeSlot(int slot) => _inner.FreeSlot(slot);

    public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
    {
        if (_steps++ == 0)
        {
            FirstStepEntered.Set();
            Release.Wait(cancellationToken);
        }
        else if (OnStep is { } hook)
        {
            _inner.Step(rows, hook(rows.ToArray(), tokenIds.ToArray()), logits, cancellationToken);
            return;
        }

        _inner.Step(rows, tokenIds, logits, cancellationToken);
    }
}
