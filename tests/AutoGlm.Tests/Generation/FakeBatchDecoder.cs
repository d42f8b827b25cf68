using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

/// <summary>
/// A deterministic stand-in for the ONNX-backed decoder: each slot keeps its token history and the logits of a
/// row are a function of that row's whole history, so any mix-up of rows, slots or past lengths changes the
/// output. It also enforces the <see cref="IBatchDecoder"/> contract and records what the scheduler did.
/// </summary>
internal sealed class FakeBatchDecoder : IBatchDecoder
{
    private readonly List<int>?[] _history;
    private readonly int[] _capacity;
    private readonly Lock _log = new();
    private readonly List<DecoderRow[]> _steps = [];
    private readonly HashSet<int> _threads = [];
    private readonly List<int> _allocations = [];
    private readonly List<(int Slot, int Kept)> _reuses = [];
    private int _slotsInUse;
    private int _maxSlotsInUse;

    public FakeBatchDecoder(int maxBatchSize = 8, int maxSequenceLength = 512, int vocabularySize = 97, LogitsFunction? logits = null)
    {
        MaxBatchSize = maxBatchSize;
        MaxSequenceLength = maxSequenceLength;
        VocabularySize = vocabularySize;
        Logits = logits ?? HashLogits;
        _history = new List<int>?[maxBatchSize];
        _capacity = new int[maxBatchSize];
    }

    public delegate void LogitsFunction(ReadOnlySpan<int> history, Span<float> logits);

    public int MaxBatchSize { get; }

    public int MaxSequenceLength { get; }

    public int VocabularySize { get; }

    public LogitsFunction Logits { get; }

    /// <summary>Gets or sets how long each step takes (the cancellation token interrupts it, like ONNX Runtime's terminate).</summary>
    public TimeSpan StepDelay { get; set; }

    /// <summary>Gets or sets a gate the next step waits at (then cleared): tests queue requests behind a held step.</summary>
    public ManualResetEventSlim? Gate { get; set; }

    /// <summary>Gets or sets a token id whose presence among a step's new tokens makes the step fail.</summary>
    public int? PoisonToken { get; set; }

    public int SlotsInUse => Volatile.Read(ref _slotsInUse);

    public int MaxSlotsInUse => Volatile.Read(ref _maxSlotsInUse);

    public IReadOnlyList<DecoderRow[]> Steps
    {
        get
        {
            lock (_log)
            {
                return [.. _steps];
            }
        }
    }

    /// <summary>Gets the capacity asked for by every slot allocation, in order.</summary>
    public IReadOnlyList<int> Allocations
    {
        get
        {
            lock (_log)
            {
                return [.. _allocations];
            }
        }
    }

    public IReadOnlyCollection<int> StepThreads
    {
        get
        {
            lock (_log)
            {
                return [.. _threads];
            }
        }
    }

    /// <summary>The logits of the fake model: a hash of the whole history mixed with each token id, in [-4, 4).</summary>
    public static void HashLogits(ReadOnlySpan<int> history, Span<float> logits)
    {
        ulong hash = 1469598103934665603UL;
        foreach (int token in history)
        {
            hash = Mix(hash ^ (uint)token);
        }

        for (int v = 0; v < logits.Length; v++)
        {
            logits[v] = ((Mix(hash + ((ulong)v * 0x9E3779B97F4A7C15UL)) >> 40) / (float)(1 << 24) * 8f) - 4f;
        }
    }

    /// <summary>Greedy decoding straight from <see cref="Logits"/>, without any scheduler: the reference.</summary>
    public int[] ReferenceGreedy(int[] prompt, int maxNewTokens, IReadOnlyCollection<int> stopIds)
    {
        var history = new List<int>(prompt);
        var output = new List<int>();
        float[] logits = new float[VocabularySize];
        int limit = Math.Min(maxNewTokens, MaxSequenceLength - prompt.Length);
        while (output.Count < limit)
        {
            Logits(history.ToArray(), logits);
            int best = 0;
            for (int v = 1; v < logits.Length; v++)
            {
                if (logits[v] > logits[best])
                {
                    best = v;
                }
            }

            output.Add(best);
            history.Add(best);
            if (stopIds.Contains(best))
            {
                break;
            }
        }

        return [.. output];
    }

    public void AllocateSlot(int slot, int tokenCapacity)
    {
        if (_history[slot] is not null)
        {
            throw new InvalidOperationException($"Slot {slot} was allocated twice.");
        }

        if (tokenCapacity > MaxSequenceLength)
        {
            throw new InvalidOperationException($"Slot {slot} asked for {tokenCapacity} positions; the context is {MaxSequenceLength}.");
        }

        _history[slot] = [];
        _capacity[slot] = tokenCapacity;
        lock (_log)
        {
            _allocations.Add(tokenCapacity);
        }

        int inUse = Interlocked.Increment(ref _slotsInUse);
        int max;
        while ((max = Volatile.Read(ref _maxSlotsInUse)) < inUse && Interlocked.CompareExchange(ref _maxSlotsInUse, inUse, max) != max)
        {
        }
    }

    public void ReuseSlot(int slot, int tokenCapacity, int keptLength)
    {
        List<int> history = _history[slot] ?? throw new InvalidOperationException($"Slot {slot} was reused but is not allocated.");
        if (keptLength > history.Count || keptLength >= tokenCapacity || tokenCapacity > MaxSequenceLength)
        {
            throw new InvalidOperationException($"Slot {slot} holds {history.Count} tokens; it cannot keep {keptLength} for a capacity of {tokenCapacity}.");
        }

        history.RemoveRange(keptLength, history.Count - keptLength);
        _capacity[slot] = tokenCapacity;
        lock (_log)
        {
            _reuses.Add((slot, keptLength));
        }
    }

    /// <summary>Gets every slot reuse (slot, positions kept), in order.</summary>
    public IReadOnlyList<(int Slot, int Kept)> Reuses
    {
        get
        {
            lock (_log)
            {
                return [.. _reuses];
            }
        }
    }

    public void FreeSlot(int slot)
    {
        if (_history[slot] is null)
        {
            throw new InvalidOperationException($"Slot {slot} was freed but is not allocated.");
        }

        _history[slot] = null;
        Interlocked.Decrement(ref _slotsInUse);
    }

    public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
    {
        lock (_log)
        {
            _steps.Add(rows.ToArray());
            _threads.Add(Environment.CurrentManagedThreadId);
        }

        if (Gate is { } gate)
        {
            Gate = null;
            gate.Wait(cancellationToken);
        }

        if (StepDelay > TimeSpan.Zero)
        {
            cancellationToken.WaitHandle.WaitOne(StepDelay);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (PoisonToken is { } poison && tokenIds.Contains(poison))
        {
            throw new AutoGlmException($"Poisoned token {poison} fed to the fake model.");
        }

        var seen = new HashSet<int>();
        int offset = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            DecoderRow row = rows[i];
            List<int> history = _history[row.Slot] ?? throw new InvalidOperationException($"Row {i} uses slot {row.Slot}, which is not allocated.");
            if (!seen.Add(row.Slot))
            {
                throw new InvalidOperationException($"Slot {row.Slot} appears twice in one step.");
            }

            if (row.PastLength != history.Count)
            {
                throw new InvalidOperationException($"Row {i} (slot {row.Slot}) says past {row.PastLength} but the slot holds {history.Count} tokens.");
            }

            if (history.Count + row.TokenCount > _capacity[row.Slot])
            {
                throw new InvalidOperationException($"Slot {row.Slot} would exceed its capacity of {_capacity[row.Slot]}.");
            }

            history.AddRange(tokenIds.Slice(offset, row.TokenCount));
            offset += row.TokenCount;
            Logits(history.ToArray(), logits.Slice(i * VocabularySize, VocabularySize));
        }

        if (offset != tokenIds.Length)
        {
            throw new InvalidOperationException($"The rows feed {offset} tokens but {tokenIds.Length} were given.");
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
