using System.Buffers;

namespace AutoGlm.Tokenization;

/// <summary>A growable list of token ids on pooled arrays, for building an encoding without garbage.</summary>
/// <remarks>Not thread-safe; a local of one call. Call <see cref="Dispose"/> to return the array.</remarks>
internal struct PooledIdList : IDisposable
{
    private int[] _items;
    private int _count;

    public PooledIdList(int capacity)
    {
        _items = ArrayPool<int>.Shared.Rent(Math.Max(capacity, 16));
        _count = 0;
    }

    public readonly int Count => _count;

    public readonly ReadOnlySpan<int> AsSpan() => _items.AsSpan(0, _count);

    public void Add(int id)
    {
        if (_count == _items.Length)
        {
            Grow(1);
        }

        _items[_count++] = id;
    }

    public void AddRange(ReadOnlySpan<int> ids)
    {
        if (_count + ids.Length > _items.Length)
        {
            Grow(ids.Length);
        }

        ids.CopyTo(_items.AsSpan(_count));
        _count += ids.Length;
    }

    public void Dispose()
    {
        if (_items is { Length: > 0 })
        {
            ArrayPool<int>.Shared.Return(_items);
        }

        _items = [];
        _count = 0;
    }

    private void Grow(int extra)
    {
        int[] larger = ArrayPool<int>.Shared.Rent(Math.Max(_items.Length * 2, _count + extra));
        _items.AsSpan(0, _count).CopyTo(larger);
        ArrayPool<int>.Shared.Return(_items);
        _items = larger;
    }
}
