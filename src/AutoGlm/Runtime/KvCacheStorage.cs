using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Runtime;

/// <summary>
/// The KV cache of a decoder graph in native memory: per layer one key and one value block of shape
/// <c>[rows, kv_heads, length, head_dim]</c>, where a row is a sequence slot. A step binds a contiguous range
/// of rows as both the graph's past input and its present output, so ONNX Runtime updates the cache in place
/// (GroupQueryAttention's shared-buffer mode) and nothing is copied per step.
/// </summary>
/// <remarks>
/// Grows on demand (more rows, or longer rows) by reallocating and copying what is held, and is released
/// entirely by <see cref="Release"/>, so memory follows the sequences in flight rather than the model's
/// whole context. Not thread-safe: the scheduler loop is its only user.
/// </remarks>
internal sealed unsafe class KvCacheStorage : IDisposable
{
    private readonly int _layers;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _elementSize;
    private readonly Dictionary<long, KvCacheView> _views = [];
    private byte*[] _keys;
    private byte*[] _values;

    public KvCacheStorage(int layers, int kvHeads, int headDim, TensorElementType elementType)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        _layers = layers;
        _kvHeads = kvHeads;
        _headDim = headDim;
        ElementType = elementType;
        _elementSize = TensorElementTypes.SizeOf(elementType);
        _keys = new byte*[layers];
        _values = new byte*[layers];
    }

    /// <summary>The element type of keys and values.</summary>
    public TensorElementType ElementType { get; }

    private Microsoft.ML.OnnxRuntime.Tensors.TensorElementType OrtType => (Microsoft.ML.OnnxRuntime.Tensors.TensorElementType)(int)ElementType;

    /// <summary>Rows (sequence slots) allocated.</summary>
    public int Rows { get; private set; }

    /// <summary>Positions per row allocated.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes of native memory held.</summary>
    public long BytesAllocated => (long)Rows * Length * BytesPerPosition;

    /// <summary>Bytes one position of one row takes over all layers (keys and values).</summary>
    public long BytesPerPosition => 2L * _layers * _kvHeads * _headDim * _elementSize;

    /// <summary>
    /// Makes room for at least <paramref name="rows"/> rows of <paramref name="length"/> positions, keeping what
    /// every existing row holds. Views taken before a growth are invalid afterwards.
    /// </summary>
    public void EnsureCapacity(int rows, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (rows <= Rows && length <= Length)
        {
            return;
        }

        int newRows = Math.Max(rows, Rows);
        int newLength = Math.Max(length, Length);
        for (int layer = 0; layer < _layers; layer++)
        {
            _keys[layer] = Grow(_keys[layer], newRows, newLength);
            _values[layer] = Grow(_values[layer], newRows, newLength);
        }

        Rows = newRows;
        Length = newLength;
        DisposeViews();
    }

    /// <summary>Frees all memory; the next <see cref="EnsureCapacity"/> starts empty.</summary>
    public void Release()
    {
        DisposeViews();
        for (int layer = 0; layer < _layers; layer++)
        {
            NativeMemory.AlignedFree(_keys[layer]);
            NativeMemory.AlignedFree(_values[layer]);
            _keys[layer] = null;
            _values[layer] = null;
        }

        Rows = 0;
        Length = 0;
    }

    /// <summary>
    /// Tensors over rows <c>[firstRow, firstRow + rowCount)</c>, shape <c>[rowCount, kv_heads, Length, head_dim]</c>,
    /// one key and one value per layer. Cached until the storage grows or is released, so steady-state steps allocate nothing.
    /// </summary>
    public KvCacheView GetView(int firstRow, int rowCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowCount);
        if (firstRow + rowCount > Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"Rows {firstRow}..{firstRow + rowCount - 1} are beyond the {Rows} allocated.");
        }

        long key = ((long)firstRow << 32) | (uint)rowCount;
        if (_views.TryGetValue(key, out KvCacheView? view))
        {
            return view;
        }

        long rowBytes = (long)_kvHeads * Length * _headDim * _elementSize;
        long[] shape = [rowCount, _kvHeads, Length, _headDim];
        var keys = new OrtValue[_layers];
        var values = new OrtValue[_layers];
        for (int layer = 0; layer < _layers; layer++)
        {
            keys[layer] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, OrtType, shape, (nint)(_keys[layer] + (firstRow * rowBytes)), rowCount * rowBytes);
            values[layer] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, OrtType, shape, (nint)(_values[layer] + (firstRow * rowBytes)), rowCount * rowBytes);
        }

        view = new KvCacheView(keys, values);
        _views[key] = view;
        return view;
    }

    /// <summary>Copies the first <paramref name="positions"/> positions of one layer's keys of a row, for tests.</summary>
    public float[] ReadKeys(int layer, int row, int head, int positions)
    {
        if (ElementType != TensorElementType.Float)
        {
            throw new InvalidOperationException("Only float caches can be read as float.");
        }

        long offset = ((((long)row * _kvHeads) + head) * Length) * _headDim;
        return new ReadOnlySpan<float>((float*)_keys[layer] + offset, positions * _headDim).ToArray();
    }

    /// <summary>
    /// Copies the first <paramref name="positions"/> positions of every layer's keys and values of row
    /// <paramref name="sourceRow"/> of <paramref name="source"/> (same layers, heads and element type) into row <paramref name="row"/>.
    /// </summary>
    public void CopyRowFrom(KvCacheStorage source, int sourceRow, int row, int positions)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)sourceRow, (uint)source.Rows, nameof(sourceRow));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(positions, Math.Min(Length, source.Length));
        if (source._layers != _layers || source._kvHeads != _kvHeads || source._headDim != _headDim || source.ElementType != ElementType)
        {
            throw new ArgumentException("The source storage has another layout.", nameof(source));
        }

        long bytes = (long)positions * _headDim * _elementSize;
        long sliceBytes = (long)Length * _headDim * _elementSize;
        long sourceSliceBytes = (long)source.Length * _headDim * _elementSize;
        for (int layer = 0; layer < _layers; layer++)
        {
            for (int head = 0; head < _kvHeads; head++)
            {
                long to = (((long)row * _kvHeads) + head) * sliceBytes;
                long from = (((long)sourceRow * _kvHeads) + head) * sourceSliceBytes;
                Buffer.MemoryCopy(source._keys[layer] + from, _keys[layer] + to, bytes, bytes);
                Buffer.MemoryCopy(source._values[layer] + from, _values[layer] + to, bytes, bytes);
            }
        }
    }

    public void Dispose() => Release();

    private byte* Grow(byte* old, int newRows, int newLength)
    {
        nuint bytes = (nuint)((long)newRows * _kvHeads * newLength * _headDim * _elementSize);
        byte* fresh = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        if (old != null)
        {
            // Keep each (row, head)'s first Length positions; the rest of the new block is never read before written.
            long oldSlice = (long)Length * _headDim * _elementSize;
            long newSlice = (long)newLength * _headDim * _elementSize;
            for (long slice = 0; slice < (long)Rows * _kvHeads; slice++)
            {
                Buffer.MemoryCopy(old + (slice * oldSlice), fresh + (slice * newSlice), newSlice, oldSlice);
            }

            NativeMemory.AlignedFree(old);
        }

        return fresh;
    }

    private void DisposeViews()
    {
        foreach (KvCacheView view in _views.Values)
        {
            view.Dispose();
        }

        _views.Clear();
    }
}
