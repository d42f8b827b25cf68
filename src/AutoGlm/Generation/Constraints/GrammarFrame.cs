namespace AutoGlm.Generation.Constraints;

/// <summary>What a <see cref="GrammarFrame"/> is parsing.</summary>
internal enum FrameKind : byte
{
    /// <summary>A place for one value of <see cref="GrammarFrame.Node"/>: phase 0 waits for it, phase 1 holds it.</summary>
    Slot,
    Object,
    AnyObject,
    Array,
    String,
    Number,
    Literals,
}

/// <summary>
/// One level of the pushdown automaton that walks a <see cref="Grammar"/>. A plain value type so that a whole
/// stack copies with one span copy (the mask search snapshots it at every trie level).
/// </summary>
internal struct GrammarFrame
{
    public FrameKind Kind;
    public byte Phase;
    public int Node;

    // Meaning by kind: Object A = next (or matched) property, B = key byte position, C = whitespace run;
    // Array A = item count; String A = length; Number A = digits in the current part, B = 1 after a leading zero;
    // Literals A..B = matching entries, C = byte position.
    public int A;
    public int B;
    public int C;

    /// <summary>The bytes the frames below need to finish once this frame is done (fixed while it is on top).</summary>
    public int CostBelow;

    /// <summary>Object, while reading a key: the properties whose key still matches.</summary>
    public ulong Mask;
}
