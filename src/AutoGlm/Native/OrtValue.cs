using System.Buffers;
using System.Runtime.InteropServices;

namespace AutoGlm.Native;

/// <summary>
/// A tensor ONNX Runtime can read or write: either over memory the caller owns (pinned for the value's
/// lifetime, no copy) or allocated by ONNX Runtime.
/// </summary>
/// <remarks>Not thread-safe for concurrent mutation; disposing releases the native value and the pin.</remarks>
internal sealed unsafe class OrtValue : IDisposable
{
    private MemoryHandle _pin;
    private readonly long _elementCount;

    private OrtValue(OrtValueHandle handle, TensorElementType elementType, long elementCount, MemoryHandle pin)
    {
        Handle = handle;
        ElementType = elementType;
        _elementCount = elementCount;
        _pin = pin;
    }

    /// <summary>The native handle.</summary>
    public OrtValueHandle Handle { get; }

    /// <summary>The tensor's element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The number of elements.</summary>
    public long ElementCount => _elementCount;

    /// <summary>Creates a tensor over <paramref name="memory"/> (pinned until disposal; no copy).</summary>
    public static OrtValue CreateTensor<T>(Memory<T> memory, ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        long count = CheckShape(shape, memory.Length);
        MemoryHandle pin = memory.Pin();
        try
        {
            OrtValueHandle handle = CreateOverMemory(pin.Pointer, (nuint)((long)memory.Length * sizeof(T)), shape, TensorElementTypes.Of<T>());
            return new OrtValue(handle, TensorElementTypes.Of<T>(), count, pin);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>Creates a tensor over native memory the caller keeps alive longer than this value (e.g. a memory map).</summary>
    public static OrtValue CreateTensor(void* data, nuint byteLength, ReadOnlySpan<long> shape, TensorElementType elementType)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        OrtValueHandle handle = CreateOverMemory(data, byteLength, shape, elementType);
        return new OrtValue(handle, elementType, count, default);
    }

    /// <summary>Creates a tensor whose memory ONNX Runtime allocates (with its default CPU allocator).</summary>
    public static OrtValue Allocate(TensorElementType elementType, ReadOnlySpan<long> shape)
    {
        OrtRuntime runtime = OrtRuntime.Instance;
        OrtApi api = runtime.Api;
        long count = 1;
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }

        nint allocator;
        api.ThrowIfFailed(api.GetAllocatorWithDefaultOptions(&allocator), "getting the default allocator");
        nint value;
        fixed (long* dims = shape)
        {
            api.ThrowIfFailed(api.CreateTensorAsOrtValue(allocator, dims, (nuint)shape.Length, (int)elementType, &value), $"allocating a {elementType} tensor of shape [{string.Join(", ", shape.ToArray())}]");
        }

        return new OrtValue(new OrtValueHandle(value, api), elementType, count, default);
    }

    /// <summary>Wraps a value ONNX Runtime created (a run's output), reading its type and size.</summary>
    public static OrtValue FromOwnedHandle(nint value)
    {
        OrtApi api = OrtRuntime.Instance.Api;
        var handle = new OrtValueHandle(value, api);
        try
        {
            (TensorElementType type, long count) = ReadTypeAndCount(api, value);
            return new OrtValue(handle, type, count, default);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The tensor's elements, in place.</summary>
    public Span<T> GetTensorData<T>()
        where T : unmanaged
    {
        if (TensorElementTypes.Of<T>() != ElementType)
        {
            throw new InvalidOperationException($"The tensor holds {ElementType}, not {typeof(T).Name}.");
        }

        return new Span<T>(GetDataPointer(), checked((int)_elementCount));
    }

    /// <summary>The address of the tensor's first element.</summary>
    public void* GetDataPointer()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            void* data;
            api.ThrowIfFailed(api.GetTensorMutableData(Handle.DangerousGetHandle(), &data), "reading a tensor's data");
            return data;
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    /// <summary>The tensor's dimensions.</summary>
    public long[] GetShape()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        nint info;
        api.ThrowIfFailed(api.GetTensorTypeAndShape(Handle.DangerousGetHandle(), &info), "reading a tensor's shape");
        using var owned = new OrtTensorTypeAndShapeInfoHandle(info, api);
        nuint rank;
        api.ThrowIfFailed(api.GetDimensionsCount(info, &rank), "reading a tensor's rank");
        long[] dims = new long[(int)rank];
        fixed (long* p = dims)
        {
            api.ThrowIfFailed(api.GetDimensions(info, p, rank), "reading a tensor's dimensions");
        }

        return dims;
    }

    public void Dispose()
    {
        Handle.Dispose();
        _pin.Dispose();
        _pin = default;
    }

    private static OrtValueHandle CreateOverMemory(void* data, nuint byteLength, ReadOnlySpan<long> shape, TensorElementType elementType)
    {
        OrtRuntime runtime = OrtRuntime.Instance;
        OrtApi api = runtime.Api;
        nint value;
        fixed (long* dims = shape)
        {
            api.ThrowIfFailed(
                api.CreateTensorWithDataAsOrtValue(runtime.CpuMemoryInfo.DangerousGetHandle(), data, byteLength, dims, (nuint)shape.Length, (int)elementType, &value),
                $"creating a {elementType} tensor of shape [{string.Join(", ", shape.ToArray())}] over caller memory");
        }

        return new OrtValueHandle(value, api);
    }

    private static long CheckShape(ReadOnlySpan<long> shape, int length)
    {
        long count = 1;
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }

        if (count != length)
        {
            throw new ArgumentException($"The shape [{string.Join(", ", shape.ToArray())}] holds {count} elements but the buffer has {length}.", nameof(shape));
        }

        return count;
    }

    private static (TensorElementType Type, long Count) ReadTypeAndCount(OrtApi api, nint value)
    {
        int isTensor;
        api.ThrowIfFailed(api.IsTensor(value, &isTensor), "inspecting an output value");
        if (isTensor == 0)
        {
            return (TensorElementType.Undefined, 0);
        }

        nint info;
        api.ThrowIfFailed(api.GetTensorTypeAndShape(value, &info), "reading a tensor's type");
        using var owned = new OrtTensorTypeAndShapeInfoHandle(info, api);
        int type;
        nuint count;
        api.ThrowIfFailed(api.GetTensorElementType(info, &type), "reading a tensor's element type");
        api.ThrowIfFailed(api.GetTensorShapeElementCount(info, &count), "reading a tensor's element count");
        return ((TensorElementType)type, (long)count);
    }
}
