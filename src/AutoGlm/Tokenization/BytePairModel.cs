using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// BPE: turns one pre-token into ids by merging adjacent tokens, lowest rank first and leftmost first among
/// equal ranks, the way the Hugging Face BPE model, tiktoken and SentencePiece's BPE do. Byte-level models
/// start from one symbol per UTF-8 byte; character-level (SentencePiece-style) models start from one symbol
/// per Unicode character and spell a character missing from the vocabulary as <c>&lt;0xNN&gt;</c> byte tokens
/// (byte fallback) or the unknown token. Results for short pieces are cached, so repeated words do not run BPE again.
/// </summary>
/// <remarks>Thread-safe: the tables are immutable and the cache is a concurrent dictionary.</remarks>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed class BytePairModel
{
    /// <summary>Pieces longer than this (in UTF-16 units) are not cached.</summary>
    private const int MaxCachedPieceLength = 64;

    /// <summary>The cache is cleared when it reaches this many entries, so memory stays bounded on untrusted text.</summary>
    private const int MaxCacheEntries = 1 << 18;

    /// <summary>Up to this many bytes the simple quadratic merge loop is faster than the heap.</summary>
    private const int MaxLinearMergeLength = 48;

    [ThreadStatic]
    private static PriorityQueue<int, long>? t_queue;

    private readonly int[] _byteIds;
    private readonly MergeTable _merges;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabulary;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private readonly bool _cachePieces;
    private readonly CharacterLevel? _characterLevel;
    private int _cacheCount;

    /// <param name="vocabulary">Byte-level text of each model token → id.</param>
    /// <param name="merges">(left id, right id) packed by <see cref="PairKey"/> → merge rule.</param>
    /// <param name="ignoreMerges">Emit a piece that is itself a vocabulary entry as one token without merging (tiktoken always does).</param>
    /// <param name="cachePieces">Whether results are cached per pre-token.</param>
    public BytePairModel(Dictionary<string, int> vocabulary, Dictionary<long, MergeRule> merges, bool ignoreMerges, bool cachePieces = true)
    {
        _cachePieces = cachePieces;
        _vocabulary = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = MergeTable.Build(merges);
        _ignoreMerges = ignoreMerges;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteIds = new int[256];
        Span<char> one = stackalloc char[1];
        for (int b = 0; b < 256; b++)
        {
            one[0] = ByteLevelAlphabet.ToChar((byte)b);
            _byteIds[b] = _vocabulary.TryGetValue(one, out int id) ? id : -1;
        }
    }

    /// <summary>Makes a character-level (SentencePiece-style) model.</summary>
    /// <param name="vocabulary">Token text (with <c>▁</c> for spaces) → id: the tokens a character or a merge can produce.</param>
    /// <param name="merges">(left id, right id) packed by <see cref="PairKey"/> → merge rule.</param>
    /// <param name="characterLevel">Byte-fallback ids and the unknown token.</param>
    /// <param name="cachePieces">Whether results are cached per pre-token.</param>
    public BytePairModel(Dictionary<string, int> vocabulary, Dictionary<long, MergeRule> merges, CharacterLevel characterLevel, bool cachePieces = true)
        : this(vocabulary, merges, ignoreMerges: false, cachePieces)
    {
        _characterLevel = characterLevel;
    }

    /// <summary>The number of merge rules.</summary>
    public int MergeCount => _merges.Count;

    /// <summary>Packs a pair of ids into a merge-table key.</summary>
    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Appends the ids of one pre-token.</summary>
    public void EncodePiece(ReadOnlySpan<char> piece, ref PooledIdList output)
    {
        bool cacheable = _cachePieces && piece.Length <= MaxCachedPieceLength;
        if (cacheable && _cacheLookup.TryGetValue(piece, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int start = output.Count;
        if (_characterLevel is not null)
        {
            EncodeCharacters(piece, ref output);
        }
        else
        {
            EncodeByteLevel(piece, ref output);
        }

        if (cacheable)
        {
            if (Interlocked.Increment(ref _cacheCount) > MaxCacheEntries)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }

            _cache.TryAdd(piece.ToString(), output.AsSpan()[start..].ToArray());
        }
    }

    private void EncodeByteLevel(ReadOnlySpan<char> piece, ref PooledIdList output)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rented = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            // Lone surrogates become U+FFFD here, as in every reference tokenizer.
            int count = Encoding.UTF8.GetBytes(piece, bytes);
            EncodeBytes(bytes[..count], ref output);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// One symbol per Unicode character (a surrogate pair is one character); a character the vocabulary lacks
    /// becomes its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens when all of them exist (they never merge), else the
    /// unknown token (consecutive ones fused when the model says so). Then the merges run over the symbols.
    /// </summary>
    private void EncodeCharacters(ReadOnlySpan<char> piece, ref PooledIdList output)
    {
        CharacterLevel level = _characterLevel!;
        int capacity = piece.Length * 3;
        int[]? rented = null;
        Span<int> ids = capacity <= 256 ? stackalloc int[256] : (rented = ArrayPool<int>.Shared.Rent(capacity));
        Span<byte> utf8 = stackalloc byte[4];
        try
        {
            int count = 0;
            bool previousUnknown = false;
            for (int i = 0; i < piece.Length;)
            {
                int length = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
                ReadOnlySpan<char> character = piece.Slice(i, length);
                i += length;
                if (_vocabulary.TryGetValue(character, out int id))
                {
                    ids[count++] = id;
                    previousUnknown = false;
                    continue;
                }

                // A lone surrogate is spelled as U+FFFD's bytes, as every reference does.
                int byteCount = Encoding.UTF8.GetBytes(character, utf8);
                bool spelled = level.ByteIds is not null;
                for (int b = 0; spelled && b < byteCount; b++)
                {
                    spelled = level.ByteIds![utf8[b]] >= 0;
                }

                if (spelled)
                {
                    for (int b = 0; b < byteCount; b++)
                    {
                        ids[count++] = level.ByteIds![utf8[b]];
                    }

                    previousUnknown = false;
                }
                else if (level.UnknownId >= 0)
                {
                    if (!(previousUnknown && level.FuseUnknown))
                    {
                        ids[count++] = level.UnknownId;
                    }

                    previousUnknown = true;
                }
            }

            MergeInto(ids[..count], ref output);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    // Merges ids in place (a linear scan for short pieces, a heap for long ones) and appends the result.
    private void MergeInto(Span<int> ids, ref PooledIdList output)
    {
        if (ids.Length <= MaxLinearMergeLength)
        {
            output.AddRange(ids[..MergeLinear(ids)]);
        }
        else
        {
            MergeWithHeap(ids, ref output);
        }
    }

    /// <summary>Appends the ids of one pre-token given as UTF-8 bytes (no cache).</summary>
    public void EncodeBytes(ReadOnlySpan<byte> bytes, ref PooledIdList output)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        if (bytes.Length == 1)
        {
            AddByte(bytes[0], ref output);
            return;
        }

        if (_ignoreMerges && TryWholePiece(bytes, ref output))
        {
            return;
        }

        int[]? rented = null;
        Span<int> ids = bytes.Length <= 256 ? stackalloc int[256] : (rented = ArrayPool<int>.Shared.Rent(bytes.Length));
        try
        {
            int count = 0;
            foreach (byte b in bytes)
            {
                // A byte the vocabulary lacks is dropped, as the Hugging Face BPE model does without an unknown token.
                int id = _byteIds[b];
                if (id >= 0)
                {
                    ids[count++] = id;
                }
            }

            MergeInto(ids[..count], ref output);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private void AddByte(byte value, ref PooledIdList output)
    {
        int id = _byteIds[value];
        if (id >= 0)
        {
            output.Add(id);
        }
    }

    private bool TryWholePiece(ReadOnlySpan<byte> bytes, ref PooledIdList output)
    {
        char[]? rented = null;
        Span<char> text = bytes.Length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
        try
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                text[i] = ByteLevelAlphabet.ToChar(bytes[i]);
            }

            if (_vocabulary.TryGetValue(text[..bytes.Length], out int id))
            {
                output.Add(id);
                return true;
            }

            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private int MergeLinear(Span<int> ids)
    {
        // ranks[i] is the rank of merging ids[i] with ids[i + 1]; only the two neighbours of a merge change.
        int count = ids.Length;
        Span<int> ranks = stackalloc int[MaxLinearMergeLength];
        Span<int> results = stackalloc int[MaxLinearMergeLength];
        for (int i = 0; i < count - 1; i++)
        {
            SetPair(ids, ranks, results, i);
        }

        while (count > 1)
        {
            int bestRank = int.MaxValue;
            int best = -1;
            for (int i = 0; i < count - 1; i++)
            {
                if (ranks[i] < bestRank)
                {
                    bestRank = ranks[i];
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            ids[best] = results[best];
            ids[(best + 2)..count].CopyTo(ids[(best + 1)..]);
            if (best + 2 < count)
            {
                ranks[(best + 2)..(count - 1)].CopyTo(ranks[(best + 1)..]);
                results[(best + 2)..(count - 1)].CopyTo(results[(best + 1)..]);
            }

            count--;
            if (best > 0)
            {
                SetPair(ids, ranks, results, best - 1);
            }

            if (best < count - 1)
            {
                SetPair(ids, ranks, results, best);
            }
        }

        return count;
    }

    private void SetPair(Span<int> ids, Span<int> ranks, Span<int> results, int index)
    {
        if (_merges.TryGet(ids[index], ids[index + 1], out MergeRule rule))
        {
            ranks[index] = rule.Rank;
            results[index] = rule.Id;
        }
        else
        {
            ranks[index] = int.MaxValue;
        }
    }

    private void MergeWithHeap(Span<int> ids, ref PooledIdList output)
    {
        // Symbols form a linked list over the original positions; the queue holds candidate merges ordered by
        // (rank, position), and entries made stale by earlier merges are skipped when popped.
        int n = ids.Length;
        int[] links = ArrayPool<int>.Shared.Rent(2 * n);
        Span<int> previous = links.AsSpan(0, n);
        Span<int> next = links.AsSpan(n, n);
        PriorityQueue<int, long> queue = t_queue ??= new PriorityQueue<int, long>();
        queue.Clear();
        try
        {
            for (int i = 0; i < n; i++)
            {
                previous[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }

            for (int i = 0; i < n - 1; i++)
            {
                Enqueue(queue, ids, i, i + 1);
            }

            while (queue.TryDequeue(out int left, out long priority))
            {
                int right = next[left];
                if (ids[left] < 0 || right < 0 || !_merges.TryGet(ids[left], ids[right], out MergeRule rule)
                    || rule.Rank != (int)(priority >> 32))
                {
                    continue;
                }

                ids[left] = rule.Id;
                ids[right] = -1;
                int after = next[right];
                next[left] = after;
                if (after >= 0)
                {
                    previous[after] = left;
                    Enqueue(queue, ids, left, after);
                }

                if (previous[left] >= 0)
                {
                    Enqueue(queue, ids, previous[left], left);
                }
            }

            for (int i = 0; i >= 0; i = next[i])
            {
                output.Add(ids[i]);
            }
        }
        finally
        {
            queue.Clear();
            ArrayPool<int>.Shared.Return(links);
        }
    }

    private void Enqueue(PriorityQueue<int, long> queue, Span<int> ids, int left, int right)
    {
        if (_merges.TryGet(ids[left], ids[right], out MergeRule rule))
        {
            queue.Enqueue(left, ((long)rule.Rank << 32) | (uint)left);
        }
    }
}
