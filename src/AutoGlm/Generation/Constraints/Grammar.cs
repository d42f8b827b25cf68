using System.Text;

namespace AutoGlm.Generation.Constraints;

/// <summary>
/// A compiled byte-level grammar: the nodes a <see cref="GrammarState"/> walks and the root node. The first
/// nodes are the same in every grammar (any value and its parts), so "any JSON" needs no compilation.
/// </summary>
/// <remarks>Immutable once built; safe to share between threads and requests.</remarks>
internal sealed class Grammar
{
    public const int AnyValue = 0;
    public const int AnyString = 1;
    public const int AnyNumber = 2;
    public const int True = 3;
    public const int False = 4;
    public const int Null = 5;
    public const int AnyObject = 6;
    public const int AnyArray = 7;

    private readonly List<GrammarNode> _nodes = [];

    public Grammar()
    {
        Add(new GrammarNode(GrammarNodeKind.Any) { MinBytes = 1 });
        Add(new GrammarNode(GrammarNodeKind.String) { MinBytes = 2, MaxCount = -1 });
        Add(new GrammarNode(GrammarNodeKind.Number) { MinBytes = 1 });
        AddLiterals([Encoding.ASCII.GetBytes("true")], null);
        AddLiterals([Encoding.ASCII.GetBytes("false")], null);
        AddLiterals([Encoding.ASCII.GetBytes("null")], null);
        Add(new GrammarNode(GrammarNodeKind.AnyObject) { MinBytes = 2 });
        Add(new GrammarNode(GrammarNodeKind.Array) { Item = AnyValue, MinBytes = 2, MaxCount = -1 });
    }

    /// <summary>Gets or sets the node a whole output must match.</summary>
    public int Root { get; set; }

    public GrammarNode this[int index] => _nodes[index];

    public int Count => _nodes.Count;

    /// <summary>Gets the fewest bytes of a complete output.</summary>
    public int MinBytes => _nodes[Root].MinBytes;

    public int Add(GrammarNode node)
    {
        _nodes.Add(node);
        return _nodes.Count - 1;
    }

    /// <summary>Adds a choice among byte strings (deduplicated, sorted), each optionally continued by a node.</summary>
    public int AddLiterals(IReadOnlyList<byte[]> entries, IReadOnlyList<int>? continuations)
    {
        var pairs = new List<(byte[] Bytes, int Continuation)>();
        for (int i = 0; i < entries.Count; i++)
        {
            if (!pairs.Exists(p => p.Bytes.AsSpan().SequenceEqual(entries[i])))
            {
                pairs.Add((entries[i], continuations?[i] ?? -1));
            }
        }

        pairs.Sort((x, y) => x.Bytes.AsSpan().SequenceCompareTo(y.Bytes));
        var node = new GrammarNode(GrammarNodeKind.Literals)
        {
            Entries = [.. pairs.Select(p => p.Bytes)],
            Continuations = [.. pairs.Select(p => p.Continuation)],
            EntryMinBytes = [.. pairs.Select(p => p.Bytes.Length + (p.Continuation >= 0 ? _nodes[p.Continuation].MinBytes : 0))],
        };
        node.MinBytes = node.EntryMinBytes.Length == 0 ? 0 : node.EntryMinBytes.Min();
        return Add(node);
    }

    /// <summary>Adds the bytes a value of <paramref name="index"/> can start with to <paramref name="set"/>.</summary>
    public void AddFirstBytes(int index, Span<bool> set)
    {
        GrammarNode node = _nodes[index];
        switch (node.Kind)
        {
            case GrammarNodeKind.Any:
                foreach (byte b in "{[\"-0123456789tfn"u8)
                {
                    set[b] = true;
                }

                break;
            case GrammarNodeKind.Object:
            case GrammarNodeKind.AnyObject:
                set['{'] = true;
                break;
            case GrammarNodeKind.Array:
                set['['] = true;
                break;
            case GrammarNodeKind.String:
                set['"'] = true;
                break;
            case GrammarNodeKind.Number:
            case GrammarNodeKind.Integer:
                foreach (byte b in "-0123456789"u8)
                {
                    set[b] = true;
                }

                break;
            case GrammarNodeKind.Literals:
                foreach (byte[] entry in node.Entries)
                {
                    if (entry.Length > 0)
                    {
                        set[entry[0]] = true;
                    }
                    else
                    {
                        throw new InvalidOperationException("An empty literal has no first byte.");
                    }
                }

                break;
            case GrammarNodeKind.Union:
                foreach (int alternative in node.Alternatives)
                {
                    AddFirstBytes(alternative, set);
                }

                break;
        }
    }
}
