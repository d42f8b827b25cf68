using System.Runtime.InteropServices;
using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>
/// Streams initializer bytes into <c>model.onnx.data</c>, starting each tensor at a 64 KiB-aligned offset
/// so that a runtime can map every tensor directly on every OS, and hands back the matching TensorProto.
/// </summary>
internal sealed class ExternalDataWriter : IDisposable
{
    public const int Alignment = 64 * 1024;

    private readonly FileStream _stream;
    private readonly string _location;
    private string? _openName;
    private TensorElementType _openType;
    private long[]? _openShape;
    private long _openStart;
    private long _openEnd;

    public ExternalDataWriter(string path)
    {
        _location = Path.GetFileName(path);
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    /// <summary>Total bytes written so far, padding included.</summary>
    public long Position => _stream.Position;

    /// <summary>Starts a tensor: pads to the next aligned offset. Write its bytes with the Write overloads, then call <see cref="EndTensor"/>.</summary>
    public void BeginTensor(string name, TensorElementType elementType, long[] shape)
    {
        if (_openName is not null)
        {
            throw new InvalidOperationException($"Tensor '{_openName}' is still being written.");
        }

        long padding = (Alignment - (_stream.Position % Alignment)) % Alignment;
        if (padding > 0)
        {
            Span<byte> zeros = stackalloc byte[4096];
            zeros.Clear();
            while (padding > 0)
            {
                int n = (int)Math.Min(padding, zeros.Length);
                _stream.Write(zeros[..n]);
                padding -= n;
            }
        }

        _openName = name;
        _openType = elementType;
        _openShape = shape;
        _openStart = _stream.Position;
        _openEnd = _openStart;
    }

    public void Write(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    /// <summary>Writes bytes at <paramref name="offset"/> from the open tensor's start (for layouts written out of order, e.g. a transposition).</summary>
    public void WriteAt(long offset, ReadOnlySpan<byte> bytes)
    {
        if (_openName is null)
        {
            throw new InvalidOperationException("No tensor is open.");
        }

        _stream.Position = _openStart + offset;
        _stream.Write(bytes);
        _openEnd = Math.Max(_openEnd, _stream.Position);
    }

    public void Write(ReadOnlySpan<float> values) => _stream.Write(MemoryMarshal.AsBytes(values));

    public void Write(ReadOnlySpan<Half> values) => _stream.Write(MemoryMarshal.AsBytes(values));

    /// <summary>Finishes the open tensor, checking that exactly its size was written.</summary>
    public OnnxTensor EndTensor()
    {
        string name = _openName ?? throw new InvalidOperationException("No tensor is open.");
        long end = Math.Max(_stream.Position, _openEnd);
        _stream.Position = end;
        long length = end - _openStart;
        long expected = TensorElementTypes.SizeOf(_openType);
        foreach (long d in _openShape!)
        {
            expected *= d;
        }

        if (length != expected)
        {
            throw new InvalidOperationException($"Tensor '{name}' should hold {expected} bytes but {length} were written.");
        }

        _openName = null;
        return new OnnxTensor(name, _openType, _openShape!, _location, _openStart, length);
    }

    /// <summary>Writes a whole tensor at once.</summary>
    public OnnxTensor WriteTensor(string name, long[] shape, ReadOnlySpan<float> values)
    {
        BeginTensor(name, TensorElementType.Float, shape);
        Write(values);
        return EndTensor();
    }

    /// <summary>Writes a whole fp16 tensor at once.</summary>
    public OnnxTensor WriteTensor(string name, long[] shape, ReadOnlySpan<Half> values)
    {
        BeginTensor(name, TensorElementType.Float16, shape);
        Write(values);
        return EndTensor();
    }

    public void Flush() => _stream.Flush(flushToDisk: true);

    public void Dispose() => _stream.Dispose();
}
