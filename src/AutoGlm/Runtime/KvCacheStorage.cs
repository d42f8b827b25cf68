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
/// <para>
/// Memory follows the positions written, not rows × length. On Linux each block is an anonymous private mapping whose
/// pages the kernel commits only when first written; the caller reports every write with <see cref="MarkWritten"/>,
/// and <see cref="Discard"/> gives a freed row's pages back lazily (<c>madvise(MADV_FREE)</c>: the kernel reclaims them
/// when it needs memory; written again first, they cost no fault). <see cref="BytesResident"/> counts exactly the pages
/// written and not given back since (the number <c>mincore</c> reports when pages go back at once, <see cref="ReturnPagesAtOnce"/>). Growth (more rows,
/// or longer rows) within the address space <see cref="ReserveAddressSpace"/> set aside moves each (row, head) slice's held positions
/// to their new place in the same mapping, so pages written once are written again without a fault; beyond it, new blocks
/// are mapped and the held positions copied. <see cref="Narrow"/> re-lays an empty cache at a shorter width the same way.
/// Elsewhere the blocks come from the native heap, fully committed, as before, and <see cref="BytesResident"/> equals
/// <see cref="BytesAllocated"/>.
/// </para>
/// <para>Released entirely by <see cref="Release"/>. Not thread-safe: the scheduler loop is its only user, except that
/// <see cref="BytesResident"/> may be read from any thread.</para>
/// </remarks>
internal sealed unsafe partial class KvCacheStorage : IDisposable
{
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int MapNoReserve = 0x4000;
    private const int MadviseDontNeed = 4;
    private const int MadviseFree = 8;
    private const int MadviseNoHugePage = 15;

    private readonly int _layers;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _elementSize;
    private readonly bool _paged;
    private readonly long _pageSize;
    private readonly Dictionary<long, KvCacheView> _views = [];
    private byte*[] _keys;
    private byte*[] _values;
    private int[] _extent = [];
    private ulong[] _pages = [];
    private long _pagesTouched;
    private long _mappedBytes;
    private long _reservedBytes;

    public KvCacheStorage(int layers, int kvHeads, int headDim, TensorElementType elementType)
        : this(layers, kvHeads, headDim, elementType, paged: OperatingSystem.IsLinux())
    {
    }

    /// <param name="layers">Decoder layers.</param>
    /// <param name="kvHeads">Key/value heads.</param>
    /// <param name="headDim">Channels per head.</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="paged">Whether blocks are lazily committed mappings (Linux only; tests compare both).</param>
    public KvCacheStorage(int layers, int kvHeads, int headDim, TensorElementType elementType, bool paged)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        if (paged && !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Lazily committed KV blocks need Linux's mmap and madvise semantics.");
        }

        _layers = layers;
        _kvHeads = kvHeads;
        _headDim = headDim;
        ElementType = elementType;
        _elementSize = TensorElementTypes.SizeOf(elementType);
        _paged = paged;
        _pageSize = Environment.SystemPageSize;
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

    /// <summary>Bytes of address space the blocks span (rows × length × bytes per position).</summary>
    public long BytesAllocated => (long)Rows * Length * BytesPerPosition;

    /// <summary>
    /// Bytes of memory the blocks hold: on Linux the pages written and not discarded since, over every block; elsewhere
    /// <see cref="BytesAllocated"/>. May be read from any thread.
    /// </summary>
    public long BytesResident => _paged ? Volatile.Read(ref _pagesTouched) * _pageSize * 2 * _layers : BytesAllocated;

    /// <summary>Whether blocks are lazily committed mappings whose pages are counted (Linux).</summary>
    public bool IsPaged => _paged;

    /// <summary>
    /// Gets or sets whether discarded pages go back to the system at once (<c>MADV_DONTNEED</c>: the next write to them
    /// faults a zeroed page in) instead of lazily (<c>MADV_FREE</c>, the default: the kernel takes them when it needs
    /// memory, and a row written again before that costs no page fault). Tests that compare the accounting with
    /// <c>mincore</c> return pages at once, since lazily freed pages still read as resident until reclaimed.
    /// </summary>
    internal bool ReturnPagesAtOnce { get; set; }

    /// <summary>Bytes one position of one row takes over all layers (keys and values).</summary>
    public long BytesPerPosition => 2L * _layers * _kvHeads * _headDim * _elementSize;

    private long PositionBytes => (long)_headDim * _elementSize;

    private long SliceBytes => Length * PositionBytes;

    private long RowBytes => _kvHeads * SliceBytes;

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
        long newBytes = (long)newRows * _kvHeads * newLength * PositionBytes;
        if (_paged && _keys[0] != null && newBytes <= _mappedBytes)
        {
            Relayout(newRows, newLength);
            return;
        }

        long mapped = _paged ? Math.Max((newBytes + _pageSize - 1) / _pageSize * _pageSize, _reservedBytes) : newBytes;

        for (int layer = 0; layer < _layers; layer++)
        {
            _keys[layer] = Grow(_keys[layer], newLength, mapped);
            _values[layer] = Grow(_values[layer], newLength, mapped);
        }

        _mappedBytes = mapped;
        Rows = newRows;
        Length = newLength;
        if (_extent.Length < newRows)
        {
            Array.Resize(ref _extent, newRows);
        }

        if (_paged)
        {
            // The new blocks hold exactly the copied prefixes.
            RecountPages(new ulong[(int)(((mapped / _pageSize) + 63) / 64)]);
        }

        DisposeViews();
    }

    /// <summary>
    /// Sets aside address space for <paramref name="rows"/> rows of <paramref name="length"/> positions in each block mapped
    /// from now on (Linux; no memory is committed by it), so growth up to there re-lays the held positions in place instead
    /// of mapping new blocks whose pages all fault in again. Ignored elsewhere.
    /// </summary>
    public void ReserveAddressSpace(int rows, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (!_paged)
        {
            return;
        }

        long bytes = (long)rows * _kvHeads * length * PositionBytes;
        bytes = (bytes + _pageSize - 1) / _pageSize * _pageSize;

        // All blocks at once must fit the address space (and, under strict overcommit, the commit limit); if not,
        // blocks are mapped as large as needed, as without a reservation.
        _reservedBytes = bytes <= long.MaxValue / (2 * _layers) && CanMap(bytes * 2 * _layers) ? bytes : 0;
    }

    /// <summary>
    /// Re-lays an empty cache (no row holds a position) at <paramref name="length"/> positions per row, keeping its rows and,
    /// on Linux, its mapping (the pages already given back stay free of faults when written again); elsewhere it releases
    /// the blocks. Views taken before are invalid afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException">A row still holds positions.</exception>
    public void Narrow(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (Array.Exists(_extent, e => e > 0))
        {
            throw new InvalidOperationException("Only an empty KV cache can be narrowed; discard every row first.");
        }

        if (length >= Length)
        {
            return;
        }

        if (!_paged)
        {
            Release();
            return;
        }

        // Pages a row shared with its neighbour outlive the rows' discards: with every row empty, nothing is held. Only
        // the span of the current (widest since the last narrowing) layout was ever written.
        long removed = ReturnPages(0, ((Rows * RowBytes) + _pageSize - 1) / _pageSize);
        Volatile.Write(ref _pagesTouched, _pagesTouched - removed);
        DisposeViews();
        Length = length;
    }

    /// <summary>
    /// Records that positions <c>[0, <paramref name="positions"/>)</c> of <paramref name="row"/> may have been written
    /// (by a step, or a filler position): their pages count as held until the row is discarded. O(kv_heads) when the
    /// row grows, nothing otherwise.
    /// </summary>
    public void MarkWritten(int row, int positions)
    {
        int before = _extent[row];
        if (positions <= before)
        {
            return;
        }

        _extent[row] = positions;
        if (!_paged)
        {
            return;
        }

        long slice = SliceBytes;
        long position = PositionBytes;
        if (slice % _pageSize == 0 && ((before * position) + _pageSize - 1) / _pageSize == ((positions * position) + _pageSize - 1) / _pageSize)
        {
            // Page-aligned slices (the usual case) and no new page: a decode step's common path, O(1).
            return;
        }

        long added = 0;
        for (int head = 0; head < _kvHeads; head++)
        {
            long start = (((long)row * _kvHeads) + head) * slice;
            long firstPage = (start + (before * position)) / _pageSize;
            long lastPage = (start + (positions * position) - 1) / _pageSize;
            for (long page = firstPage; page <= lastPage; page++)
            {
                ref ulong word = ref _pages[page >> 6];
                ulong bit = 1UL << (int)(page & 63);
                if ((word & bit) == 0)
                {
                    word |= bit;
                    added++;
                }
            }
        }

        if (added > 0)
        {
            Volatile.Write(ref _pagesTouched, _pagesTouched + added);
        }
    }

    /// <summary>
    /// Forgets what <paramref name="row"/> holds and, on Linux, returns its pages to the system (pages it shares with a
    /// neighbouring row stay). The row reads as zeros afterwards until written again.
    /// </summary>
    public void Discard(int row)
    {
        if ((uint)row >= (uint)Rows || _extent[row] == 0)
        {
            return;
        }

        _extent[row] = 0;
        if (!_paged)
        {
            return;
        }

        long start = row * RowBytes;
        long removed = ReturnPages((start + _pageSize - 1) / _pageSize, (start + RowBytes) / _pageSize);
        Volatile.Write(ref _pagesTouched, _pagesTouched - removed);
    }

    /// <summary>
    /// Keeps only the first <paramref name="positions"/> positions of <paramref name="row"/> (prefix reuse hands a row to a
    /// new sequence that shares only its start): on Linux the pages wholly past them go back, per head slice.
    /// </summary>
    public void Trim(int row, int positions)
    {
        if ((uint)row >= (uint)Rows || _extent[row] <= positions)
        {
            return;
        }

        if (positions <= 0)
        {
            Discard(row);
            return;
        }

        _extent[row] = positions;
        if (!_paged)
        {
            return;
        }

        long slice = SliceBytes;
        long removed = 0;
        for (int head = 0; head < _kvHeads; head++)
        {
            long start = (((long)row * _kvHeads) + head) * slice;
            removed += ReturnPages((start + (positions * PositionBytes) + _pageSize - 1) / _pageSize, (start + slice) / _pageSize);
        }

        Volatile.Write(ref _pagesTouched, _pagesTouched - removed);
    }

    /// <summary>Frees all memory; the next <see cref="EnsureCapacity"/> starts empty.</summary>
    public void Release()
    {
        DisposeViews();
        for (int layer = 0; layer < _layers; layer++)
        {
            Free(_keys[layer]);
            Free(_values[layer]);
            _keys[layer] = null;
            _values[layer] = null;
        }

        Rows = 0;
        Length = 0;
        _mappedBytes = 0;
        Array.Clear(_extent);
        _pages = [];
        Volatile.Write(ref _pagesTouched, 0);
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

        long rowBytes = RowBytes;
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

    /// <summary>
    /// Copies the first <paramref name="positions"/> positions of every layer's keys and values of <paramref name="row"/>
    /// to <paramref name="packed"/>, or back from it when <paramref name="toRow"/>. The packed block holds per layer keys
    /// then values, each <c>[kv_heads, packedPositions, head_dim]</c> (<see cref="BytesPerPosition"/> × packedPositions
    /// bytes in all), so a prefix of a longer block can be copied back.
    /// </summary>
    public void CopyRow(int row, int positions, int packedPositions, byte* packed, bool toRow)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(positions, Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(positions, packedPositions);
        long bytes = positions * PositionBytes;
        long packedSlice = packedPositions * PositionBytes;
        long slice = SliceBytes;
        for (int layer = 0; layer < _layers; layer++)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                byte* block = pass == 0 ? _keys[layer] : _values[layer];
                for (int head = 0; head < _kvHeads; head++)
                {
                    byte* stored = block + ((((long)row * _kvHeads) + head) * slice);
                    if (toRow)
                    {
                        Buffer.MemoryCopy(packed, stored, bytes, bytes);
                    }
                    else
                    {
                        Buffer.MemoryCopy(stored, packed, bytes, bytes);
                    }

                    packed += packedSlice;
                }
            }
        }
    }

    /// <summary>
    /// Pages of every block the kernel reports resident (<c>mincore</c>), for tests that check <see cref="BytesResident"/>
    /// against the system; Linux only.
    /// </summary>
    public long CountResidentPages()
    {
        if (!_paged || Rows == 0)
        {
            return 0;
        }

        long pages = _mappedBytes / _pageSize;
        byte[] vector = new byte[pages];
        long total = 0;
        fixed (byte* v = vector)
        {
            for (int layer = 0; layer < _layers; layer++)
            {
                total += Resident(_keys[layer], v, vector);
                total += Resident(_values[layer], v, vector);
            }
        }

        return total;
    }

    public void Dispose() => Release();

    private long Resident(byte* block, byte* v, byte[] vector)
    {
        if (Mincore(block, (nuint)_mappedBytes, v) != 0)
        {
            throw new InvalidOperationException($"mincore failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        long count = 0;
        foreach (byte b in vector)
        {
            count += b & 1;
        }

        return count;
    }

    // Growth inside the mapping: every held (row, head) slice moves to its place at the new width; pages held before
    // and not now go back.
    private void Relayout(int newRows, int newLength)
    {
        long oldSlice = SliceBytes;
        long newSlice = newLength * PositionBytes;
        if (newSlice != oldSlice)
        {
            for (int layer = 0; layer < _layers; layer++)
            {
                CopyHeldSlices(_keys[layer], _keys[layer], oldSlice, newSlice);
                CopyHeldSlices(_values[layer], _values[layer], oldSlice, newSlice);
            }
        }

        Rows = newRows;
        Length = newLength;
        if (_extent.Length < newRows)
        {
            Array.Resize(ref _extent, newRows);
        }

        DisposeViews();
        if (newSlice == oldSlice)
        {
            // Same offsets: the pages held are the same pages.
            return;
        }

        ulong[] before = _pages;
        RecountPages(new ulong[before.Length]);

        // Runs of pages held before and not now go back together (their bits are clear in the new count).
        long page = 0;
        long pages = (long)before.Length * 64;
        while (page < pages)
        {
            if ((page & 63) == 0 && (before[page >> 6] & ~_pages[page >> 6]) == 0)
            {
                page += 64;
                continue;
            }

            if (!IsSet(before, page) || IsSet(_pages, page))
            {
                page++;
                continue;
            }

            long end = page + 1;
            while (end < pages && IsSet(before, end) && !IsSet(_pages, end))
            {
                end++;
            }

            _ = ReturnPages(page, end);
            page = end;
        }
    }

    private static bool IsSet(ulong[] bits, long index) => (bits[index >> 6] & (1UL << (int)(index & 63))) != 0;

    // Counts the pages the rows' held positions cover into a cleared bitmap of the mapping's size.
    private void RecountPages(ulong[] cleared)
    {
        _pages = cleared;
        Volatile.Write(ref _pagesTouched, 0);
        for (int row = 0; row < Rows; row++)
        {
            int held = _extent[row];
            _extent[row] = 0;
            MarkWritten(row, held);
        }
    }

    // Copies each (row, head) slice's held positions from a layout of oldSlice bytes per slice to one of newSlice
    // (newSlice >= oldSlice), in the same block or a fresh one: the last slice goes first, so within one block a
    // slice, which only moves up, never overwrites one not yet moved.
    private void CopyHeldSlices(byte* from, byte* to, long oldSlice, long newSlice)
    {
        for (int row = Rows - 1; row >= 0; row--)
        {
            long held = Math.Min((long)_extent[row], Length) * PositionBytes;
            if (held == 0)
            {
                continue;
            }

            for (int head = _kvHeads - 1; head >= 0; head--)
            {
                long slice = ((long)row * _kvHeads) + head;
                Buffer.MemoryCopy(from + (slice * oldSlice), to + (slice * newSlice), newSlice, held);
            }
        }
    }

    private static bool CanMap(long bytes)
    {
        void* probe = Mmap(null, (nuint)bytes, ProtReadWrite, MapPrivateAnonymous | MapNoReserve, -1, 0);
        if (probe == (void*)-1)
        {
            return false;
        }

        _ = Munmap(probe, (nuint)bytes);
        return true;
    }

    private byte* Grow(byte* old, int newLength, long bytes)
    {
        byte* fresh = Allocate(bytes);
        if (old != null)
        {
            // Keep each (row, head)'s held positions; the rest of the new block is never read before written.
            CopyHeldSlices(old, fresh, SliceBytes, newLength * PositionBytes);
            Free(old);
        }

        return fresh;
    }

    private byte* Allocate(long bytes)
    {
        if (!_paged)
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        }

        // No swap space is reserved for address space that is set aside but never written.
        byte* block = (byte*)Mmap(null, (nuint)bytes, ProtReadWrite, MapPrivateAnonymous | MapNoReserve, -1, 0);
        if (block == (byte*)-1)
        {
            throw new InsufficientMemoryException($"Mapping {bytes} bytes of KV cache failed (errno {Marshal.GetLastPInvokeError()}); lower MaxBatchSize or MaxSequenceLength.");
        }

        // Transparent huge pages would commit 2 MiB at the first write and defeat the accounting by page.
        _ = Madvise(block, (nuint)bytes, MadviseNoHugePage);
        return block;
    }

    // Gives pages [firstPage, endPage) of every block back and clears their bits; returns how many of them were counted.
    private long ReturnPages(long firstPage, long endPage)
    {
        if (endPage <= firstPage)
        {
            return 0;
        }

        nuint offset = (nuint)(firstPage * _pageSize);
        nuint length = (nuint)((endPage - firstPage) * _pageSize);
        for (int layer = 0; layer < _layers; layer++)
        {
            GiveBack(_keys[layer] + offset, length);
            GiveBack(_values[layer] + offset, length);
        }

        long removed = 0;
        for (long page = firstPage; page < endPage; page++)
        {
            ref ulong word = ref _pages[page >> 6];
            ulong bit = 1UL << (int)(page & 63);
            if ((word & bit) != 0)
            {
                word &= ~bit;
                removed++;
            }
        }

        return removed;
    }

    // Returning pages at once made every request fault its KV pages in afresh: measured on `small` int4, time to first
    // token +14 % and decode -3 % against heap memory. Lazily freed pages cost nothing to write again.
    private void GiveBack(byte* address, nuint length)
    {
        if (ReturnPagesAtOnce || Madvise(address, length, MadviseFree) != 0)
        {
            // MADV_FREE needs Linux 4.5; before that (EINVAL) the pages go back at once.
            _ = Madvise(address, length, MadviseDontNeed);
        }
    }

    private void Free(byte* block)
    {
        if (block == null)
        {
            return;
        }

        if (_paged)
        {
            _ = Munmap(block, (nuint)_mappedBytes);
        }
        else
        {
            NativeMemory.AlignedFree(block);
        }
    }

    private void DisposeViews()
    {
        foreach (KvCacheView view in _views.Values)
        {
            view.Dispose();
        }

        _views.Clear();
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(void* address, nuint length, byte* vector);
}
