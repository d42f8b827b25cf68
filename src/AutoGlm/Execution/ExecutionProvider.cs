namespace AutoGlm.Execution;

/// <summary>
/// Where a model runs: <see cref="Cpu"/>, <see cref="Cuda"/>, <see cref="DirectML"/>, or <see cref="Auto"/>
/// (CUDA, then DirectML, then CPU — the first that works on this machine).
/// </summary>
/// <remarks>Instances are immutable and thread-safe.</remarks>
public abstract class ExecutionProvider
{
    private protected ExecutionProvider(string name)
    {
        Name = name;
    }

    /// <summary>The provider's display name: <c>CPU</c>, <c>CUDA</c>, <c>DirectML</c> or <c>Auto</c>.</summary>
    public string Name { get; }

    /// <summary>ONNX Runtime's CPU provider; always available.</summary>
    public static ExecutionProvider Cpu { get; } = new CpuExecutionProvider();

    /// <summary>Tries CUDA (device 0), then DirectML (adapter 0), then falls back to the CPU, recording why each was rejected.</summary>
    public static ExecutionProvider Auto { get; } = new AutoExecutionProvider();

    /// <summary>NVIDIA CUDA on the given device.</summary>
    /// <param name="deviceId">The CUDA device ordinal.</param>
    /// <param name="options">Extra ONNX Runtime CUDA provider options (e.g. <c>gpu_mem_limit</c>, <c>arena_extend_strategy</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deviceId"/> is negative.</exception>
    public static ExecutionProvider Cuda(int deviceId = 0, IReadOnlyDictionary<string, string>? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        return new CudaExecutionProvider(deviceId, options ?? new Dictionary<string, string>());
    }

    /// <summary>DirectML (Windows, DirectX 12) on the given adapter.</summary>
    /// <param name="adapterIndex">The DXGI adapter index.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="adapterIndex"/> is negative.</exception>
    public static ExecutionProvider DirectML(int adapterIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(adapterIndex);
        return new DirectMLExecutionProvider(adapterIndex);
    }

    /// <summary>
    /// Parses a provider name as used in configuration: <c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>, <c>directml</c>,
    /// <c>dml:0</c> or <c>auto</c> (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of those; the message lists them.</exception>
    public static ExecutionProvider Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string text = value.Trim();
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? text : text[..colon]).ToUpperInvariant();
        int index = 0;
        if (colon >= 0 && !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index))
        {
            throw new ArgumentException($"Execution provider '{value}' has an invalid device index after ':'; use e.g. 'cuda:0'.", nameof(value));
        }

        return kind switch
        {
            "CPU" when colon < 0 => Cpu,
            "AUTO" when colon < 0 => Auto,
            "CUDA" => Cuda(index),
            "DIRECTML" or "DML" => DirectML(index),
            _ => throw new ArgumentException($"Unknown execution provider '{value}'. Use one of: cpu, cuda, cuda:<device>, directml, directml:<adapter>, auto.", nameof(value)),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>The CPU provider.</summary>
public sealed class CpuExecutionProvider : ExecutionProvider
{
    internal CpuExecutionProvider()
        : base("CPU")
    {
    }
}

/// <summary>The automatic choice: CUDA, then DirectML, then CPU.</summary>
public sealed class AutoExecutionProvider : ExecutionProvider
{
    internal AutoExecutionProvider()
        : base("Auto")
    {
    }
}

/// <summary>The CUDA provider on one device.</summary>
public sealed class CudaExecutionProvider : ExecutionProvider
{
    internal CudaExecutionProvider(int deviceId, IReadOnlyDictionary<string, string> options)
        : base("CUDA")
    {
        DeviceId = deviceId;
        Options = options;
    }

    /// <summary>The CUDA device ordinal.</summary>
    public int DeviceId { get; }

    /// <summary>Extra ONNX Runtime CUDA provider options.</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <inheritdoc />
    public override string ToString() => $"CUDA:{DeviceId}";
}

/// <summary>The DirectML provider on one adapter.</summary>
public sealed class DirectMLExecutionProvider : ExecutionProvider
{
    internal DirectMLExecutionProvider(int adapterIndex)
        : base("DirectML")
    {
        AdapterIndex = adapterIndex;
    }

    /// <summary>The DXGI adapter index.</summary>
    public int AdapterIndex { get; }

    /// <inheritdoc />
    public override string ToString() => $"DirectML:{AdapterIndex}";
}
