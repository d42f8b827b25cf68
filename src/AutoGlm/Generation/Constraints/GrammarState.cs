namespace AutoGlm.Generation.Constraints;

/// <summary>
/// One sequence's position in its constraint's grammar, advanced by every token it keeps.
/// </summary>
/// <remarks>Allocated when the sequence is admitted; advancing allocates nothing. Not thread-safe: only the scheduler loop uses it.</remarks>
internal sealed class GrammarState
{
    private readonly GrammarFrame[] _frames = new GrammarFrame[GrammarMachine.Capacity];
    private int _depth;

    public GrammarState(Grammar grammar)
    {
        Grammar = grammar;
        _depth = GrammarMachine.Start(grammar, _frames);
    }

    public Grammar Grammar { get; }

    /// <summary>Gets the current stack of frames.</summary>
    public ReadOnlySpan<GrammarFrame> Frames => _frames.AsSpan(0, _depth);

    /// <summary>Gets whether the output so far is a complete value.</summary>
    public bool IsComplete => GrammarMachine.IsComplete(Grammar, _frames, _depth);

    /// <summary>Gets the fewest bytes that still complete the value.</summary>
    public int MinCompletion => GrammarMachine.MinCompletion(Grammar, _frames, _depth);

    /// <summary>Gets whether no token could continue the output within the remaining budget, so it ended unfinished.</summary>
    public bool DeadEnd { get; set; }

    /// <summary>Returns to the start of the grammar (for reuse without allocating).</summary>
    public void Reset()
    {
        _depth = GrammarMachine.Start(Grammar, _frames);
        DeadEnd = false;
    }

    /// <summary>Advances by the bytes of one token; false (and the state unchanged) when they cannot come next.</summary>
    public bool TryAdvance(ReadOnlySpan<byte> bytes)
    {
        Span<GrammarFrame> copy = stackalloc GrammarFrame[GrammarMachine.Capacity];
        _frames.AsSpan(0, _depth).CopyTo(copy);
        int depth = _depth;
        foreach (byte b in bytes)
        {
            if (!GrammarMachine.Advance(Grammar, copy, ref depth, b))
            {
                return false;
            }
        }

        copy[..depth].CopyTo(_frames);
        _depth = depth;
        return true;
    }
}
