namespace AutoGlm.ModelBuilder.Quantization;

/// <summary>
/// Block-wise symmetric 4-bit quantisation in the layout of ONNX Runtime's <c>MatMulNBits</c>: each row of
/// K values is cut into blocks of <c>blockSize</c>; a block's scale is its largest-magnitude value divided by
/// −8, so that value maps exactly to −8 and the rest to round(w / scale) clamped to [−8, 7]; codes are
/// stored as q + 8 (the implicit zero point), two per byte, the earlier element in the low nibble.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class Int4BlockQuantizer
{
    public static int BlocksPerRow(int k, int blockSize) => (k + blockSize - 1) / blockSize;

    /// <summary>Quantises one row of K values: writes BlocksPerRow × blockSize / 2 packed bytes and BlocksPerRow scales.</summary>
    public static void QuantizeRow(ReadOnlySpan<float> row, int blockSize, Span<byte> packed, Span<float> scales)
    {
        int blocks = BlocksPerRow(row.Length, blockSize);
        for (int b = 0; b < blocks; b++)
        {
            int start = b * blockSize;
            int count = Math.Min(blockSize, row.Length - start);
            ReadOnlySpan<float> block = row.Slice(start, count);
            float extreme = 0;
            foreach (float v in block)
            {
                if (Math.Abs(v) > Math.Abs(extreme))
                {
                    extreme = v;
                }
            }

            float scale = extreme / -8f;
            scales[b] = scale;
            Span<byte> target = packed.Slice(b * blockSize / 2, blockSize / 2);
            target.Clear();
            for (int i = 0; i < blockSize; i++)
            {
                int q = 8;
                if (i < count)
                {
                    // Dividing (not multiplying by the inverse) keeps representable values exact.
                    float scaled = scale == 0 ? 0 : block[i] / scale;
                    q = (int)Math.Clamp(MathF.Round(scaled, MidpointRounding.ToEven), -8, 7) + 8;
                }

                target[i / 2] |= (byte)((i & 1) == 0 ? q : q << 4);
            }

        }
    }

    /// <summary>The inverse of <see cref="QuantizeRow"/>: (code − 8) × scale.</summary>
    public static void DequantizeRow(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int blockSize, Span<float> row)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int b = i / blockSize;
            int within = i % blockSize;
            byte pair = packed[(b * blockSize / 2) + (within / 2)];
            int code = (within & 1) == 0 ? pair & 0xF : pair >> 4;
            row[i] = (code - 8) * scales[b];
        }
    }
}
