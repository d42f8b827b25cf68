namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>Where one tensor lives: its file, element type, shape, and byte range inside the file.</summary>
internal sealed record SafetensorsTensorInfo(string Name, string FilePath, SafetensorsDType DType, long[] Shape, long FileOffset, long ByteLength)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
