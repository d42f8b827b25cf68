namespace AutoGlm.Runtime;

/// <summary>
/// A tensor held in managed memory, for tools and tests that run a model once (the model builder's
/// validation, reference comparisons). Hot paths use <c>OrtValue</c> over pooled buffers instead.
/// </summary>
internal sealed class HostTensor
{
    private HostTensor(TensorElementType elementType, long[] shape, Array data)
    {
        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The dimensions.</summary>
    public long[] Shape { get; }

    /// <summary>The elements in row-major order: <c>float[]</c>, <c>Half[]</c>, <c>long[]</c>, <c>int[]</c>, <c>byte[]</c> or <c>sbyte[]</c>, <c>double[]</c>, <c>bool[]</c>.</summary>
    public Array Data { get; }

    public static HostTensor Create<T>(T[] data, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"The shape [{string.Join(", ", shape)}] holds {count} elements but the data has {data.Length}.", nameof(data));
        }

        return new HostTensor(TensorElementTypes.Of<T>(), (long[])shape.Clone(), data);
    }

    /// <summary>The elements as <typeparamref name="T"/>; throws when the element type differs.</summary>
    public T[] As<T>()
        where T : unmanaged
    {
        if (Data is T[] typed)
        {
            return typed;
        }

        throw new InvalidOperationException($"The tensor holds {ElementType}, not {typeof(T).Name}.");
    }
}
