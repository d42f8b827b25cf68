using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>
/// One memory-mapped <c>.safetensors</c> file: its header is parsed and checked on open (every tensor's
/// dtype, shape and byte range), and tensor bytes are read through views of the map, never copied whole.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class SafetensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly MemoryMappedFile? _map;

    private SafetensorsFile(string path, MemoryMappedFile? map, Dictionary<string, SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        long fileLength;
        byte[] header;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new ModelLoadException($"Safetensors file '{path}' is truncated: it has {fileLength} bytes, fewer than the 8-byte header length. Re-download or re-export the checkpoint.");
            }

            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > (ulong)(fileLength - 8) || headerLength > MaxHeaderBytes)
            {
                throw new ModelLoadException($"Safetensors file '{path}' has a corrupt header: it declares {headerLength} header bytes but the file has {fileLength - 8} bytes after the length. The file is truncated or not a safetensors file.");
            }

            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        catch (IOException ex)
        {
            throw new ModelLoadException($"Safetensors file '{path}' could not be read: {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ModelLoadException($"Safetensors file '{path}' could not be read: {ex.Message}", ex);
        }

        long dataStart = 8 + header.Length;
        long dataLength = fileLength - dataStart;
        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"Safetensors file '{path}' has a corrupt header: the header is not a JSON object.");
            }

            foreach (JsonProperty entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (JsonProperty m in entry.Value.EnumerateObject())
                        {
                            metadata[m.Name] = m.Value.ToString();
                        }
                    }

                    continue;
                }

                tensors[entry.Name] = ParseEntry(path, entry, dataStart, dataLength);
            }
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"Safetensors file '{path}' has a corrupt header: it is not valid JSON ({ex.Message}).", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new ModelLoadException($"Safetensors file '{path}' has a corrupt header: {ex.Message}", ex);
        }

        MemoryMappedFile? map = fileLength > 0
            ? MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read)
            : null;
        return new SafetensorsFile(path, map, tensors, metadata);
    }

    private static SafetensorsTensorInfo ParseEntry(string path, JsonProperty entry, long dataStart, long dataLength)
    {
        JsonElement e = entry.Value;
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out JsonElement dtypeElement)
            || !e.TryGetProperty("shape", out JsonElement shapeElement)
            || !e.TryGetProperty("data_offsets", out JsonElement offsetsElement)
            || offsetsElement.GetArrayLength() != 2)
        {
            throw new ModelLoadException($"Safetensors file '{path}' has a corrupt header entry for tensor '{entry.Name}': it needs dtype, shape and two data_offsets.");
        }

        string dtypeText = dtypeElement.GetString() ?? string.Empty;
        SafetensorsDType dtype = dtypeText switch
        {
            "F32" => SafetensorsDType.F32,
            "F16" => SafetensorsDType.F16,
            "BF16" => SafetensorsDType.BF16,
            _ => throw new ModelLoadException($"Safetensors file '{path}': tensor '{entry.Name}' has dtype '{dtypeText}', which the builder does not read. Supported: F32, F16, BF16; convert the checkpoint to one of them."),
        };
        long[] shape = shapeElement.EnumerateArray().Select(d => d.GetInt64()).ToArray();
        long begin = offsetsElement[0].GetInt64();
        long end = offsetsElement[1].GetInt64();
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ModelLoadException($"Safetensors file '{path}': tensor '{entry.Name}' has a negative dimension in shape [{string.Join(", ", shape)}].");
            }

            count *= d;
        }

        long expected = count * (dtype == SafetensorsDType.F32 ? 4 : 2);
        if (begin < 0 || end < begin || end - begin != expected)
        {
            throw new ModelLoadException($"Safetensors file '{path}': tensor '{entry.Name}' has data_offsets [{begin}, {end}], which do not hold {expected} bytes for {dtypeText} shape [{string.Join(", ", shape)}]. The header is corrupt.");
        }

        if (end > dataLength)
        {
            throw new ModelLoadException($"Safetensors file '{path}': tensor '{entry.Name}' ends at data offset {end} but the file holds only {dataLength} data bytes. The file is truncated; re-download it.");
        }

        return new SafetensorsTensorInfo(entry.Name, path, dtype, shape, dataStart + begin, end - begin);
    }

    /// <summary>Maps bytes [offset, offset + length) of one tensor; dispose the region when done with it.</summary>
    public MappedRegion Map(SafetensorsTensorInfo tensor, long offset, long length)
    {
        if (_map is null || length <= 0 || offset < 0 || offset + length > tensor.ByteLength)
        {
            throw new InvalidOperationException($"Bytes [{offset}, {offset + length}) of tensor '{tensor.Name}' in '{Path}' cannot be mapped.");
        }

        return new MappedRegion(_map, tensor.FileOffset + offset, length);
    }

    public void Dispose() => _map?.Dispose();
}
