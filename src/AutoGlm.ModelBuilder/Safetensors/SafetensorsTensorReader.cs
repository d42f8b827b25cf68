using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>Reads ranges of one tensor's elements as float32 straight from the memory map (F32 spans are reinterpreted, F16/BF16 widened).</summary>
/// <remarks>Not thread-safe; dispose to unmap.</remarks>
internal sealed class SafetensorsTensorReader : IDisposable
{
    private readonly MappedRegion _region;
    private readonly int _elementSize;

    public SafetensorsTensorReader(SafetensorsFile file, SafetensorsTensorInfo tensor)
    {
        Tensor = tensor;
        _region = file.Map(tensor);
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
            ReadOnlySpan<byte> bytes = _region.Slice((start + done) * _elementSize, n * _elementSize);
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

    public void Dispose() => _region.Dispose();
}
