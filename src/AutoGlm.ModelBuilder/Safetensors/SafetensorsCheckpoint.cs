using System.Text.Json;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>
/// The weights of a checkpoint folder: one <c>model.safetensors</c>, several shards listed by
/// <c>model.safetensors.index.json</c>, or every <c>*.safetensors</c> file in the folder.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class SafetensorsCheckpoint : IDisposable
{
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;

    private SafetensorsCheckpoint(string directory, Dictionary<string, SafetensorsFile> files, Dictionary<string, SafetensorsTensorInfo> tensors)
    {
        Directory = directory;
        _files = files;
        _tensors = tensors;
    }

    public string Directory { get; }

    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>Total bytes of tensor data.</summary>
    public long TotalBytes => _tensors.Values.Sum(t => t.ByteLength);

    public static SafetensorsCheckpoint Open(string directory)
    {
        var files = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        try
        {
            string indexPath = System.IO.Path.Combine(directory, IndexFileName);
            if (File.Exists(indexPath))
            {
                Dictionary<string, string> weightMap = ReadIndex(indexPath);
                foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    string shardPath = System.IO.Path.Combine(directory, shard);
                    if (!File.Exists(shardPath))
                    {
                        throw new ModelLoadException($"Checkpoint index '{indexPath}' lists shard '{shard}', which does not exist in '{directory}'. Download every shard of the checkpoint.");
                    }

                    files[shard] = SafetensorsFile.Open(shardPath);
                }

                foreach ((string name, string shard) in weightMap)
                {
                    if (!files[shard].Tensors.TryGetValue(name, out SafetensorsTensorInfo? info))
                    {
                        throw new ModelLoadException($"Checkpoint index '{indexPath}' places tensor '{name}' in shard '{shard}', but that shard does not contain it.");
                    }

                    tensors[name] = info;
                }
            }
            else
            {
                string[] paths = System.IO.Directory.Exists(directory)
                    ? System.IO.Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
                    : [];
                if (paths.Length == 0)
                {
                    throw new ModelLoadException($"No weights found in '{directory}': expected model.safetensors, or shards with {IndexFileName}.");
                }

                foreach (string path in paths)
                {
                    SafetensorsFile file = SafetensorsFile.Open(path);
                    files[System.IO.Path.GetFileName(path)] = file;
                    foreach ((string name, SafetensorsTensorInfo info) in file.Tensors)
                    {
                        tensors[name] = info;
                    }
                }
            }
        }
        catch
        {
            foreach (SafetensorsFile f in files.Values)
            {
                f.Dispose();
            }

            throw;
        }

        return new SafetensorsCheckpoint(directory, files, tensors);
    }

    private static Dictionary<string, string> ReadIndex(string indexPath)
    {
        try
        {
            using FileStream stream = File.OpenRead(indexPath);
            using JsonDocument doc = JsonDocument.Parse(stream);
            if (!doc.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"Checkpoint index '{indexPath}' has no 'weight_map' object.");
            }

            return map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"Checkpoint index '{indexPath}' is not valid JSON: {ex.Message}", ex);
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor's location; throws <see cref="ModelLoadException"/> naming the tensor and folder when it is missing or its shape differs from <paramref name="expectedShape"/>.</summary>
    public SafetensorsTensorInfo Get(string name, params long[] expectedShape)
    {
        if (!_tensors.TryGetValue(name, out SafetensorsTensorInfo? info))
        {
            throw new ModelLoadException($"Tensor '{name}' is missing from the checkpoint in '{Directory}'. The checkpoint does not match its config.json (architecture or layer count).");
        }

        if (expectedShape.Length > 0 && !expectedShape.SequenceEqual(info.Shape))
        {
            throw new ModelLoadException($"Tensor '{name}' in '{info.FilePath}' has shape {info.ShapeText}, but config.json implies [{string.Join(", ", expectedShape)}]. The checkpoint and its config.json do not match.");
        }

        return info;
    }

    public SafetensorsTensorReader OpenReader(SafetensorsTensorInfo tensor)
        => new(_files.Values.First(f => f.Path == tensor.FilePath), tensor);

    /// <summary>Reads a whole (small) tensor as float32.</summary>
    public float[] ReadFloats(string name, params long[] expectedShape)
    {
        SafetensorsTensorInfo info = Get(name, expectedShape);
        var values = new float[info.ElementCount];
        if (values.Length > 0)
        {
            using SafetensorsTensorReader reader = OpenReader(info);
            reader.Read(0, values);
        }

        return values;
    }

    public void Dispose()
    {
        foreach (SafetensorsFile f in _files.Values)
        {
            f.Dispose();
        }
    }
}
