using System.IO.MemoryMappedFiles;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>
/// A read-only view of a byte range of a memory-mapped file. Unmapping the view when the range has been
/// consumed keeps the converter's resident memory near one tensor, whatever the checkpoint size.
/// </summary>
/// <remarks>Not thread-safe; dispose once.</remarks>
internal sealed unsafe class MappedRegion : IDisposable
{
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly long _length;

    public MappedRegion(MemoryMappedFile file, long offset, long length)
    {
        _view = file.CreateViewAccessor(offset, length, MemoryMappedFileAccess.Read);
        byte* basePointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        _pointer = basePointer + _view.PointerOffset;
        _length = length;
    }

    public long Length => _length;

    /// <summary>The bytes [start, start + count) of the region, with no copy.</summary>
    public ReadOnlySpan<byte> Slice(long start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, _length);
        return new ReadOnlySpan<byte>(_pointer + start, count);
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }
}
