using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>
/// Reads ranges of one tensor's elements as float32 straight from the memory map (F32 spans are reinterpreted,
/// F16/BF16 widened). Only a window of the tensor is mapped at a time, so reading a tensor front to back
/// keeps at most one window resident however large the tensor is.
/// </summary>
/// <remarks>Not thread-safe; dispose to unmap.</remarks>
internal sealed class SafetensorsTensorReader : IDisposable
{
    private const long WindowBytes = 16L * 1024 * 1024;

    private readonly SafetensorsFile _file;
    private readonly int _elementSize;
    private MappedRegion? _window;
    private long _windowStart;

    public SafetensorsTensorReader(SafetensorsFile file, SafetensorsTensorInfo tensor)
    {
        Tensor = tensor;
        _file = file;
        _elementSize = tensor.DType == SafetensorsDType.F32 ? 4 : 2;
    }

    public SafetensorsTensorInfo Tensor { get; }

    /// <summary>Copies elements [start, start + destination.Length) into <paramref name="destination"/> as float32.</summary>
    public void Read(long start, Span<float> destination)
    {
        const int Chunk = 1 << 20;
        int done = 0;
        while (done < destination.Length)
        {
            int n = Math.Min(Chunk, destination.Length - done);
            ReadOnlySpan<byte> bytes = Bytes((start + done) * _elementSize, n * _elementSize);
            Span<float> target = destination.Slice(done, n);
            switch (Tensor.DType)
            {
                case SafetensorsDType.F32:
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(target);
                    break;
                case SafetensorsDType.F16:
                    for (int i = 0; i < n; i++)
                    {
                        target[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2)));
                    }

                    break;
                default:
                    for (int i = 0; i < n; i++)
                    {
                        target[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2)) << 16);
                    }

                    break;
            }

            done += n;
        }
    }

    private ReadOnlySpan<byte> Bytes(long offset, int count)
    {
        if (offset < 0 || offset + count > Tensor.ByteLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes [{offset}, {offset + count}) lie outside tensor '{Tensor.Name}' ({Tensor.ByteLength} bytes).");
        }

        if (_window is null || offset < _windowStart || offset + count > _windowStart + _window.Length)
        {
            _window?.Dispose();
            _window = null;
            _windowStart = offset;
            _window = _file.Map(Tensor, offset, Math.Min(Math.Max(WindowBytes, count), Tensor.ByteLength - offset));
        }

        return _window.Slice(offset - _windowStart, count);
    }

    public void Dispose() => _window?.Dispose();
}
