using AutoGlm.ModelBuilder.Quantization;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class Int4BlockQuantizerTests
{
    [Fact]
    public void QuantizeThenDequantize_RepresentableValues_RoundTripExactly()
    {
        // Each block holds k × scale for k in [-8, 7] with -8 present, so its scale is exactly the chosen one.
        float[] scales = [0.25f, 0.0078125f, 3f];
        var row = new float[96];
        for (int b = 0; b < 3; b++)
        {
            for (int i = 0; i < 32; i++)
            {
                int k = ((i * 5) % 16) - 8;
                row[(b * 32) + i] = k * scales[b];
            }
        }

        var packed = new byte[48];
        var gotScales = new float[3];
        Int4BlockQuantizer.QuantizeRow(row, 32, packed, gotScales);
        var back = new float[96];
        Int4BlockQuantizer.DequantizeRow(packed, gotScales, 32, back);
        Assert.Equal(scales, gotScales);
        Assert.Equal(row, back);
    }

    [Fact]
    public void QuantizeRow_PacksEarlierElementInLowNibbleWithZeroPointEight()
    {
        var row = new float[16];
        row[0] = -8;   // code 0
        row[1] = 7;    // code 15
        row[2] = 1;    // code 9
        var packed = new byte[8];
        var scales = new float[1];
        Int4BlockQuantizer.QuantizeRow(row, 16, packed, scales);
        Assert.Equal(1f, scales[0]);
        Assert.Equal(0xF0, packed[0]);
        Assert.Equal(0x89, packed[1]);
        Assert.Equal(0x88, packed[7]);
    }

    [Fact]
    public void QuantizeRow_PartialLastBlockAndZeroBlock_PadsWithZeroCodes()
    {
        var row = new float[40];
        for (int i = 32; i < 40; i++)
        {
            row[i] = i - 36;
        }

        var packed = new byte[32];
        var scales = new float[2];
        Int4BlockQuantizer.QuantizeRow(row, 32, packed, scales);
        Assert.Equal(0f, scales[0]);
        Assert.Equal(0.5f, scales[1]);
        var back = new float[40];
        Int4BlockQuantizer.DequantizeRow(packed, scales, 32, back);
        Assert.Equal(row, back);
        Assert.All(packed.AsSpan(20, 12).ToArray(), b => Assert.Equal(0x88, b));
    }
}
