namespace AutoGlm.Generation.Constraints;

/// <summary>What kind of value a <see cref="GrammarNode"/> accepts.</summary>
internal enum GrammarNodeKind : byte
{
    /// <summary>Any JSON value (nesting bounded by the state's capacity).</summary>
    Any,

    /// <summary>An object with declared properties, written in declaration order; optional ones may be left out.</summary>
    Object,

    /// <summary>An object with any keys and any values.</summary>
    AnyObject,

    /// <summary>An array of one item grammar with an item count range.</summary>
    Array,

    /// <summary>A string; with a length bound it is restricted to printable ASCII without escapes.</summary>
    String,

    /// <summary>A JSON number with bounded digit counts.</summary>
    Number,

    /// <summary>A JSON integer (no fraction, no exponent) with a bounded digit count.</summary>
    Integer,

    /// <summary>One of a set of byte strings, each optionally followed by another node (tool name, then arguments).</summary>
    Literals,

    /// <summary>One of several nodes, chosen by the first byte.</summary>
    Union,
}

/// <summary>One node of a compiled <see cref="Grammar"/>; immutable once the grammar is built.</summary>
internal sealed class GrammarNode
{
    public GrammarNode(GrammarNodeKind kind)
    {
        Kind = kind;
    }

    public GrammarNodeKind Kind { get; }

    /// <summary>Gets or sets the fewest bytes that make a complete value of this node.</summary>
    public int MinBytes { get; set; }

    // Object: properties in declaration order.
    public byte[][] Keys { get; set; } = [];

    public int[] Values { get; set; } = [];

    public bool[] Required { get; set; } = [];

    /// <summary>Object: for a next property index i, the exclusive end of the properties that may come next (up to and including the first required one).</summary>
    public int[] CandidateEnd { get; set; } = [];

    /// <summary>Object: bytes needed to write every required property from index i on, each with a leading comma.</summary>
    public int[] RequiredCost { get; set; } = [];

    // Array: item node and count range (MaxCount -1: unbounded).
    public int Item { get; set; }

    public int MinCount { get; set; }

    public int MaxCount { get; set; } = -1;

    // String: length range in bytes (MaxCount -1: unbounded) and whether only printable ASCII is allowed.
    public bool AsciiOnly { get; set; }

    // Literals: sorted byte strings, the node each continues with (-1: none), and bytes for the whole entry.
    public byte[][] Entries { get; set; } = [];

    public int[] Continuations { get; set; } = [];

    public int[] EntryMinBytes { get; set; } = [];

    // Union: the alternative each first byte selects (-1: none).
    public int[] ByFirstByte { get; set; } = [];

    public int[] Alternatives { get; set; } = [];
}
