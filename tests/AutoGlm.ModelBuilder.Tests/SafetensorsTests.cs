using System.Buffers.Binary;
using System.Text;
using AutoGlm.ModelBuilder.Safetensors;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class SafetensorsTests
{
    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void WriteThenRead_RepresentableValues_RoundTripExactly(string dtypeName)
    {
        var dtype = Enum.Parse<SafetensorsDType>(dtypeName);
        string dir = TestModels.NewPath("st");
        Directory.CreateDirectory(dir);
        float[] values = [0f, 1f, -2f, 0.5f, 3.25f, -0.125f];
        using (var writer = new SafetensorsWriter(Path.Combine(dir, "model.safetensors"), [("a", dtype, [2, 3]), ("b", SafetensorsDType.F32, [1])]))
        {
            writer.Append(values.AsSpan(0, 4));
            writer.Append(values.AsSpan(4));
            writer.Append([7f]);
            writer.Complete();
        }

        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir);
        Assert.Equal(values, checkpoint.ReadFloats("a", 2, 3));
        Assert.Equal([7f], checkpoint.ReadFloats("b"));
        Assert.Equal(dtype, checkpoint.Get("a").DType);
        byte[] file = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(file) % 8);
        Assert.Equal(8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file) + (6 * SafetensorsWriter.ElementSize(dtype)) + 4, file.Length);
    }

    [Fact]
    public void ToBFloat16_HalfwayValue_RoundsToNearestEven()
    {
        // 1 + 2^-8 is exactly halfway between two bfloat16 values; ties go to the even mantissa (1.0).
        Assert.Equal(0x3F80, SafetensorsWriter.ToBFloat16(1f + (1f / 256)));
        Assert.Equal(0x3F82, SafetensorsWriter.ToBFloat16(1f + (3f / 256)));
    }

    [Fact]
    public void Open_ShardedCheckpointWithIndex_FindsTensorsInEachShard()
    {
        string dir = TestModels.NewPath("sharded");
        Directory.CreateDirectory(dir);
        WriteSingle(Path.Combine(dir, "model-00001-of-00002.safetensors"), "x", [1f, 2f]);
        WriteSingle(Path.Combine(dir, "model-00002-of-00002.safetensors"), "y", [3f]);
        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName), """{"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}""");
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir);
        Assert.Equal([1f, 2f], checkpoint.ReadFloats("x"));
        Assert.Equal([3f], checkpoint.ReadFloats("y"));
        Assert.EndsWith("model-00002-of-00002.safetensors", checkpoint.Get("y").FilePath);
    }

    [Fact]
    public void Open_IndexNamesMissingShard_ThrowsNamingTheShard()
    {
        string dir = TestModels.NewPath("missing-shard");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName), """{"weight_map": {"x": "gone.safetensors"}}""");
        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsCheckpoint.Open(dir));
        Assert.Contains("lists shard 'gone.safetensors', which does not exist", ex.Message);
    }

    [Fact]
    public void Open_TruncatedFile_ThrowsNamingFileAndTensor()
    {
        string path = Path.Combine(NewDir(), "model.safetensors");
        WriteSingle(path, "weight", [1f, 2f, 3f, 4f]);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - 4);
        }

        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal($"Safetensors file '{path}': tensor 'weight' ends at data offset 16 but the file holds only 12 data bytes. The file is truncated; re-download it.", ex.Message);
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_ThrowsCorruptHeader()
    {
        string path = Path.Combine(NewDir(), "model.safetensors");
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal($"Safetensors file '{path}' has a corrupt header: it declares 1000 header bytes but the file has 8 bytes after the length. The file is truncated or not a safetensors file.", ex.Message);
    }

    [Fact]
    public void Open_HeaderNotJson_ThrowsCorruptHeader()
    {
        string path = Path.Combine(NewDir(), "model.safetensors");
        WriteRaw(path, "{not json", []);
        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith($"Safetensors file '{path}' has a corrupt header: it is not valid JSON", ex.Message);
    }

    [Fact]
    public void Open_UnknownDType_ThrowsNamingTensorAndDType()
    {
        string path = Path.Combine(NewDir(), "model.safetensors");
        WriteRaw(path, """{"w": {"dtype": "I8", "shape": [2], "data_offsets": [0, 2]}}""", [1, 2]);
        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal($"Safetensors file '{path}': tensor 'w' has dtype 'I8', which the builder does not read. Supported: F32, F16, BF16; convert the checkpoint to one of them.", ex.Message);
    }

    [Fact]
    public void Open_OffsetsDisagreeWithShape_ThrowsNamingTensor()
    {
        string path = Path.Combine(NewDir(), "model.safetensors");
        WriteRaw(path, """{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}""", new byte[12]);
        var ex = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal($"Safetensors file '{path}': tensor 'w' has data_offsets [0, 8], which do not hold 12 bytes for F32 shape [3]. The header is corrupt.", ex.Message);
    }

    [Fact]
    public void Get_MissingTensorOrWrongShape_ThrowsNamingTensor()
    {
        string dir = NewDir();
        WriteSingle(Path.Combine(dir, "model.safetensors"), "w", [1f, 2f]);
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir);
        var missing = Assert.Throws<ModelLoadException>(() => checkpoint.Get("nope"));
        Assert.Equal($"Tensor 'nope' is missing from the checkpoint in '{dir}'. The checkpoint does not match its config.json (architecture or layer count).", missing.Message);
        var shape = Assert.Throws<ModelLoadException>(() => checkpoint.Get("w", 3));
        Assert.Equal($"Tensor 'w' in '{Path.Combine(dir, "model.safetensors")}' has shape [2], but config.json implies [3]. The checkpoint and its config.json do not match.", shape.Message);
    }

    private static string NewDir()
    {
        string dir = TestModels.NewPath("st");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void WriteSingle(string path, string name, float[] values)
    {
        using var writer = new SafetensorsWriter(path, [(name, SafetensorsDType.F32, [values.Length])]);
        writer.Append(values);
        writer.Complete();
    }

    private static void WriteRaw(string path, string header, byte[] data)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        byte[] bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        File.WriteAllBytes(path, bytes);
    }
}
