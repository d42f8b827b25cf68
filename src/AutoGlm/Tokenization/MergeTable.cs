using System.Numerics;
using System.Runtime.CompilerServices;

namespace AutoGlm.Tokenization;

/// <summary>
/// The BPE merge rules keyed by (left id, right id): an open-addressing hash table with linear probing,
/// several times faster to query than a <see cref="Dictionary{TKey, TValue}"/> with a custom comparer on the
/// path that runs for every adjacent pair of every uncached pre-token.
/// </summary>
/// <remarks>Immutable after <see cref="Build"/>; safe to share between threads.</remarks>
internal sealed class MergeTable
{
    private const long Empty = -1;

    private readonly long[] _keys;
    private readonly MergeRule[] _rules;
    private readonly int _mask;

    private MergeTable(int capacity)
    {
        _keys = new long[capacity];
        _keys.AsSpan().Fill(Empty);
        _rules = new MergeRule[capacity];
        _mask = capacity - 1;
    }

    /// <summary>The number of rules.</summary>
    public int Count { get; private set; }

    /// <summary>Builds the table from (left, right) pairs packed by <see cref="BytePairModel.PairKey"/>.</summary>
    public static MergeTable Build(Dictionary<long, MergeRule> rules)
    {
        var table = new MergeTable((int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, rules.Count * 2)));
        foreach ((long key, MergeRule rule) in rules)
        {
            int slot = table.Slot(key);
            while (table._keys[slot] != Empty)
            {
                slot = (slot + 1) & table._mask;
            }

            table._keys[slot] = key;
            table._rules[slot] = rule;
        }

        table.Count = rules.Count;
        return table;
    }

    /// <summary>Looks up the rule for merging <paramref name="left"/> with <paramref name="right"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out MergeRule rule)
    {
        long key = BytePairModel.PairKey(left, right);
        int slot = Slot(key);
        while (true)
        {
            long found = _keys[slot];
            if (found == key)
            {
                rule = _rules[slot];
                return true;
            }

            if (found == Empty)
            {
                rule = default;
                return false;
            }

            slot = (slot + 1) & _mask;
        }
    }

    private int Slot(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32) & _mask;
}
