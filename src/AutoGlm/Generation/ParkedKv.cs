using System.Runtime.InteropServices;

namespace AutoGlm.Generation;

/// <summary>
/// The KV of a finished sequence's first <see cref="Length"/> positions, copied out of its decoder slot into native
/// memory so the slot can serve another sequence while this KV waits for a prompt that starts the same way.
/// </summary>
/// <remarks>Owned by the slot table on the scheduler loop; disposed when reused or evicted. Not thread-safe.</remarks>
internal sealed unsafe class ParkedKv : IDisposable
{
    private readonly Action<ParkedKv>? _released;
    private byte* _data;

    /// <summary>Allocates <paramref name="bytes"/> bytes for <paramref name="length"/> positions; <paramref name="released"/> runs once on disposal.</summary>
    public ParkedKv(int length, long bytes, Action<ParkedKv>? released)
    {
        Length = length;
        Bytes = bytes;
        _released = released;
        _data = (byte*)NativeMemory.Alloc((nuint)Math.Max(bytes, 1));
    }

    /// <summary>Gets the positions held.</summary>
    public int Length { get; }

    /// <summary>Gets the bytes held.</summary>
    public long Bytes { get; }

    /// <summary>Gets the start of the copied KV.</summary>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(ParkedKv));

    /// <summary>Frees the memory. Never throws.</summary>
    public void Dispose()
    {
        if (_data == null)
        {
            return;
        }

        NativeMemory.Free(_data);
        _data = null;
        _released?.Invoke(this);
    }
}
