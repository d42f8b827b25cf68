using System.Runtime.InteropServices;
using System.Text;

namespace AutoGlm.Native;

/// <summary>
/// A fixed list of strings as NUL-terminated UTF-8 with a pointer array over them, in the shape ONNX Runtime
/// takes names (<c>const char* const*</c>). Both live in pinned managed arrays, so the pointers stay valid
/// for as long as the table is reachable and nothing needs freeing. Reading it never allocates.
/// </summary>
/// <remarks>Immutable after construction; thread-safe to read.</remarks>
internal sealed unsafe class Utf8NameTable
{
    private readonly byte[] _block;
    private readonly nint[] _pointers;

    public Utf8NameTable(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        Count = names.Count;
        int total = 0;
        foreach (string name in names)
        {
            total += Encoding.UTF8.GetByteCount(name) + 1;
        }

        _block = GC.AllocateArray<byte>(Math.Max(total, 1), pinned: true);
        _pointers = GC.AllocateArray<nint>(Math.Max(Count, 1), pinned: true);
        int offset = 0;
        byte* start = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_block, 0);
        for (int i = 0; i < Count; i++)
        {
            int written = Encoding.UTF8.GetBytes(names[i], _block.AsSpan(offset));
            _block[offset + written] = 0;
            _pointers[i] = (nint)(start + offset);
            offset += written + 1;
        }
    }

    public int Count { get; }

    /// <summary>The pointer array (<c>const char* const*</c>).</summary>
    public byte** Pointers => (byte**)Marshal.UnsafeAddrOfPinnedArrayElement(_pointers, 0);

    /// <summary>The UTF-8 name at <paramref name="index"/>.</summary>
    public byte* this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return (byte*)_pointers[index];
        }
    }
}
