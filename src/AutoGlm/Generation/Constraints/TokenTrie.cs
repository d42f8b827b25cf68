namespace AutoGlm.Generation.Constraints;

/// <summary>
/// A trie of token byte strings, laid out breadth-first in flat arrays: a node's children are consecutive
/// nodes, so a walk touches no objects and allocates nothing.
/// </summary>
/// <remarks>Immutable once built; safe to share between threads.</remarks>
internal sealed class TokenTrie
{
    private readonly int[] _firstChild;
    private readonly int[] _childCount;
    private readonly byte[] _label;
    private readonly int[] _endStart;
    private readonly int[] _endCount;
    private readonly int[] _ends;

    private TokenTrie(int[] firstChild, int[] childCount, byte[] label, int[] endStart, int[] endCount, int[] ends)
    {
        _firstChild = firstChild;
        _childCount = childCount;
        _label = label;
        _endStart = endStart;
        _endCount = endCount;
        _ends = ends;
    }

    public int NodeCount => _label.Length;

    public int TokenCount => _ends.Length;

    /// <summary>Builds the trie of the tokens <paramref name="include"/> accepts (tokens with no bytes are skipped).</summary>
    public static TokenTrie Build(byte[]?[] tokens, Func<int, bool> include)
    {
        var ids = new List<int>();
        for (int id = 0; id < tokens.Length; id++)
        {
            if (tokens[id] is { Length: > 0 } && include(id))
            {
                ids.Add(id);
            }
        }

        int[] sorted = [.. ids];
        Array.Sort(sorted, (x, y) =>
        {
            int order = tokens[x].AsSpan().SequenceCompareTo(tokens[y]);
            return order != 0 ? order : x.CompareTo(y);
        });

        var firstChild = new List<int> { 0 };
        var childCount = new List<int> { 0 };
        var label = new List<byte> { 0 };
        var endStart = new List<int> { 0 };
        var endCount = new List<int> { 0 };
        var lo = new List<int> { 0 };
        var hi = new List<int> { sorted.Length };
        var depth = new List<int> { 0 };
        for (int node = 0; node < label.Count; node++)
        {
            int d = depth[node];
            int k = lo[node];
            int end = hi[node];
            while (k < end && tokens[sorted[k]]!.Length == d)
            {
                k++;
            }

            endStart[node] = lo[node];
            endCount[node] = k - lo[node];
            firstChild[node] = label.Count;
            int children = 0;
            while (k < end)
            {
                byte b = tokens[sorted[k]]![d];
                int j = k;
                while (j < end && tokens[sorted[j]]![d] == b)
                {
                    j++;
                }

                firstChild.Add(0);
                childCount.Add(0);
                label.Add(b);
                endStart.Add(0);
                endCount.Add(0);
                lo.Add(k);
                hi.Add(j);
                depth.Add(d + 1);
                children++;
                k = j;
            }

            childCount[node] = children;
        }

        return new TokenTrie([.. firstChild], [.. childCount], [.. label], [.. endStart], [.. endCount], sorted);
    }

    public int FirstChild(int node) => _firstChild[node];

    public int ChildCount(int node) => _childCount[node];

    public byte Label(int node) => _label[node];

    /// <summary>The ids of the tokens whose bytes end exactly at <paramref name="node"/>.</summary>
    public ReadOnlySpan<int> Ends(int node) => _ends.AsSpan(_endStart[node], _endCount[node]);
}
