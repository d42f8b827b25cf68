using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Runtime;

/// <summary>
/// An ONNX Runtime inference session (the official binding's <see cref="InferenceSession"/>) with its input and output
/// descriptions read once, runs through an I/O binding (the hot path) or over host tensors (tools, tests), and every
/// ONNX Runtime failure turned into <see cref="ModelLoadException"/> or <see cref="AutoGlmNativeException"/>.
/// </summary>
/// <remarks>Thread-safe for runs (ONNX Runtime allows concurrent runs on one session); dispose only when no run is in progress.</remarks>
internal sealed class OrtSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;

    // One count for the owner plus one per run in progress: the native session is released when it drops to zero,
    // so disposing while another thread runs is safe (the run finishes first; later runs are refused).
    private int _references = 1;

    private OrtSession(InferenceSession session, string source)
    {
        _session = session;
        Source = source;
        Inputs = session.InputNames.Select(name => Describe(name, session.InputMetadata[name])).ToArray();
        Outputs = session.OutputNames.Select(name => Describe(name, session.OutputMetadata[name])).ToArray();
        _inputIndex = Inputs.Select((n, i) => (n.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        _outputIndex = Outputs.Select((n, i) => (n.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The model path, or <c>&lt;memory&gt;</c> for a model created from bytes; for messages.</summary>
    public string Source { get; }

    /// <summary>Inputs in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Inputs { get; }

    /// <summary>Outputs in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Outputs { get; }

    /// <summary>Creates a CPU session for the model file at <paramref name="modelPath"/> (external data resolved beside it).</summary>
    /// <exception cref="ModelLoadException">The file does not exist or is not a loadable ONNX model.</exception>
    public static OrtSession Create(string modelPath, OrtSessionSettings? settings = null)
    {
        using SessionOptions options = CreateOptions(settings);
        return Create(modelPath, options);
    }

    /// <summary>Creates a session for the model file with prepared options (providers, config entries).</summary>
    /// <exception cref="ModelLoadException">The file does not exist or is not a loadable ONNX model.</exception>
    public static OrtSession Create(string modelPath, SessionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        string fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new ModelLoadException($"The ONNX model file '{fullPath}' does not exist. Check the path, or build a model folder with 'autoglm build'.");
        }

        _ = OrtRuntime.Instance;
        try
        {
            return new OrtSession(new InferenceSession(fullPath, options), fullPath);
        }
        catch (OnnxRuntimeException ex)
        {
            throw LoadFailure(ex, $"The ONNX model '{fullPath}'", "Check that the file is a complete ONNX model (rebuild it with 'autoglm build') and that its external data file sits beside it.");
        }
    }

    /// <summary>Creates a CPU session from the model's bytes in memory.</summary>
    /// <exception cref="ModelLoadException">The bytes are not a loadable ONNX model.</exception>
    public static OrtSession Create(byte[] modelBytes, OrtSessionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(modelBytes);
        _ = OrtRuntime.Instance;
        using SessionOptions options = CreateOptions(settings);
        try
        {
            return new OrtSession(new InferenceSession(modelBytes, options), "<memory>");
        }
        catch (OnnxRuntimeException ex)
        {
            throw LoadFailure(ex, $"An in-memory ONNX model ({modelBytes.Length} bytes)", "Check the model bytes.");
        }
    }

    /// <summary>Session options from plain settings.</summary>
    public static SessionOptions CreateOptions(OrtSessionSettings? settings)
    {
        settings ??= new OrtSessionSettings();
        _ = OrtRuntime.Instance;
        var options = new SessionOptions();
        try
        {
            if (settings.IntraOpThreads > 0)
            {
                options.IntraOpNumThreads = settings.IntraOpThreads;
            }

            options.GraphOptimizationLevel = settings.GraphOptimizationLevel switch
            {
                0 => GraphOptimizationLevel.ORT_DISABLE_ALL,
                1 => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                2 => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                99 => GraphOptimizationLevel.ORT_ENABLE_ALL,
                int level => throw new ArgumentOutOfRangeException(nameof(settings), level, "The graph optimisation level must be 0 (none), 1 (basic), 2 (extended) or 99 (all)."),
            };
            foreach ((string key, string value) in settings.ConfigEntries)
            {
                options.AddSessionConfigEntry(key, value);
            }

            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>The index of the input named <paramref name="name"/>, or -1.</summary>
    public int IndexOfInput(string name) => _inputIndex.TryGetValue(name, out int i) ? i : -1;

    /// <summary>The index of the output named <paramref name="name"/>, or -1.</summary>
    public int IndexOfOutput(string name) => _outputIndex.TryGetValue(name, out int i) ? i : -1;

    /// <summary>Creates an I/O binding for this session; bind once, run many times.</summary>
    public OrtIoBinding CreateIoBinding() => _session.CreateIoBinding();

    /// <summary>Runs through an I/O binding (inputs and outputs bound beforehand). Allocates nothing managed.</summary>
    /// <exception cref="OperationCanceledException">The run was terminated through <paramref name="runOptions"/>.</exception>
    /// <exception cref="AutoGlmNativeException">ONNX Runtime rejected the inputs or failed; the message names the model.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Run(OrtIoBinding binding, RunOptions runOptions)
    {
        AddReference();
        try
        {
            _session.RunWithBinding(runOptions, binding);
        }
        catch (OnnxRuntimeException ex)
        {
            throw RunFailure(ex, runOptions);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Runs the model once on host tensors and returns the requested outputs (all outputs when <paramref name="outputNames"/> is null). Allocates; for tools and tests.</summary>
    /// <exception cref="AutoGlmNativeException">An input name, element type or shape was rejected; the message names the model and the inputs given.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before or during the run.</exception>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        outputNames ??= Outputs.Select(o => o.Name).ToArray();
        foreach (string name in inputs.Keys)
        {
            if (IndexOfInput(name) < 0)
            {
                throw new AutoGlmNativeException(
                    OnnxRuntimeErrorCode.InvalidArgument,
                    $"The model '{Source}' has no input named '{name}'. Its inputs are: {string.Join(", ", Inputs.Select(i => i.Name))}.");
            }
        }

        foreach (string name in outputNames)
        {
            if (IndexOfOutput(name) < 0)
            {
                throw new AutoGlmNativeException(
                    OnnxRuntimeErrorCode.InvalidArgument,
                    $"The model '{Source}' has no output named '{name}'. Its outputs are: {string.Join(", ", Outputs.Select(o => o.Name))}.");
            }
        }

        var values = new List<OrtValue>(inputs.Count);
        AddReference();
        try
        {
            foreach (HostTensor tensor in inputs.Values)
            {
                values.Add(ToOrtValue(tensor));
            }

            using var runOptions = new RunOptions();
            using CancellationTokenRegistration registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
            IDisposableReadOnlyCollection<OrtValue> results;
            try
            {
                results = _session.Run(runOptions, inputs.Keys.ToArray(), values, outputNames.ToArray());
            }
            catch (OnnxRuntimeException ex)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException($"The run of '{Source}' was cancelled.", ex, cancellationToken);
                }

                throw RunFailure(ex, runOptions, inputs);
            }

            using (results)
            {
                var output = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
                int i = 0;
                foreach (OrtValue value in results)
                {
                    output[outputNames[i++]] = ToHostTensor(value);
                }

                return output;
            }
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }

            Release();
        }
    }

    /// <summary>Releases the session once no run is using it. Never throws; later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    /// <summary>An ONNX Runtime value over the host tensor's array (pinned until the value is disposed).</summary>
    public static OrtValue ToOrtValue(HostTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long[] shape = tensor.Shape;
        return tensor.Data switch
        {
            float[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            long[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            int[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            double[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            byte[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            sbyte[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            bool[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            short[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            ushort[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            uint[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            ulong[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            Half[] a => OrtValue.CreateTensorValueFromMemory(ToFloat16(a), shape),
            _ => throw new NotSupportedException($"Host tensors of {tensor.Data.GetType().Name} are not supported."),
        };
    }

    /// <summary>Copies an ONNX Runtime tensor into a host tensor.</summary>
    public static HostTensor ToHostTensor(OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        Span<byte> raw = value.GetTensorMutableRawData();
        return (TensorElementType)(int)info.ElementDataType switch
        {
            TensorElementType.Float => HostTensor.Create(MemoryMarshal.Cast<byte, float>(raw).ToArray(), shape),
            TensorElementType.Float16 => HostTensor.Create(MemoryMarshal.Cast<byte, Half>(raw).ToArray(), shape),
            TensorElementType.Int64 => HostTensor.Create(MemoryMarshal.Cast<byte, long>(raw).ToArray(), shape),
            TensorElementType.Int32 => HostTensor.Create(MemoryMarshal.Cast<byte, int>(raw).ToArray(), shape),
            TensorElementType.Double => HostTensor.Create(MemoryMarshal.Cast<byte, double>(raw).ToArray(), shape),
            TensorElementType.UInt8 => HostTensor.Create(raw.ToArray(), shape),
            TensorElementType.Int8 => HostTensor.Create(MemoryMarshal.Cast<byte, sbyte>(raw).ToArray(), shape),
            TensorElementType.Bool => HostTensor.Create(MemoryMarshal.Cast<byte, bool>(raw).ToArray(), shape),
            var other => throw new NotSupportedException($"Outputs of element type {other} are not supported."),
        };
    }

    private int _disposed;

    private void AddReference()
    {
        while (true)
        {
            int current = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(current == 0 || Volatile.Read(ref _disposed) != 0, this);
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return;
            }
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _session.Dispose();
        }
    }

    private static Float16[] ToFloat16(Half[] values)
    {
        // Float16 and Half share their bit layout; ONNX Runtime's binding only knows its own struct.
        var copy = new Float16[values.Length];
        MemoryMarshal.Cast<Half, Float16>(values).CopyTo(copy);
        return copy;
    }

    private static OrtNodeInfo Describe(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            return new OrtNodeInfo(name, TensorElementType.Undefined, [], []);
        }

        long[] dims = metadata.Dimensions.Select(d => (long)d).ToArray();
        string[] symbolic = metadata.SymbolicDimensions.Select(s => s ?? string.Empty).ToArray();
        return new OrtNodeInfo(name, (TensorElementType)(int)metadata.ElementDataType, dims, symbolic);
    }

    private static ModelLoadException LoadFailure(OnnxRuntimeException ex, string what, string fix)
    {
        (OnnxRuntimeErrorCode code, string message) = OrtErrors.Read(ex);
        var inner = new AutoGlmNativeException(code, $"[{code}] {message}", ex);
        bool tooNew = message.Contains("Unsupported model IR version", StringComparison.OrdinalIgnoreCase)
            || message.Contains("opset", StringComparison.OrdinalIgnoreCase) && message.Contains("is under development", StringComparison.OrdinalIgnoreCase)
            || message.Contains("higher than the", StringComparison.OrdinalIgnoreCase) && message.Contains("version", StringComparison.OrdinalIgnoreCase);
        string advice = tooNew
            ? $"The model was written for a newer ONNX Runtime than the one loaded ({OrtRuntime.Instance.Version}). Rebuild it with this version's 'autoglm build', or update AutoGlm (and its ONNX Runtime package)."
            : fix;
        return new ModelLoadException($"{what} could not be loaded: [{code}] {message} {advice}", inner);
    }

    private Exception RunFailure(OnnxRuntimeException ex, RunOptions runOptions, IReadOnlyDictionary<string, HostTensor>? inputs = null)
    {
        (OnnxRuntimeErrorCode code, string message) = OrtErrors.Read(ex);
        if (runOptions.Terminate)
        {
            return new OperationCanceledException($"The run of '{Source}' was terminated: {message}", ex);
        }

        string given = inputs is null
            ? string.Empty
            : " Inputs given: " + string.Join(", ", inputs.Select(p => $"{p.Key} {p.Value.ElementType} [{string.Join(",", p.Value.Shape)}]")) +
              ". Inputs the model declares: " + string.Join(", ", Inputs.Select(n => $"{n.Name} {n.ElementType} [{string.Join(",", n.Shape.Select((d, j) => d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : n.SymbolicDims[j] is { Length: > 0 } s ? s : "?"))}]")) + ".";
        return new AutoGlmNativeException(code, $"ONNX Runtime failed to run the model '{Source}': [{code}] {message}{given}", ex);
    }
}

/// <summary>Name, element type and declared shape (-1 for a symbolic dimension, whose name is in <see cref="SymbolicDims"/>) of a graph input or output.</summary>
internal sealed record OrtNodeInfo(string Name, TensorElementType ElementType, long[] Shape, string[] SymbolicDims);

/// <summary>What a session is created with.</summary>
internal sealed record OrtSessionSettings
{
    /// <summary>Threads for one operator; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>ONNX Runtime's graph optimisation level: 0 none, 1 basic, 2 extended, 99 all.</summary>
    public int GraphOptimizationLevel { get; init; } = 99;

    /// <summary>Session configuration entries (<c>AddSessionConfigEntry</c>).</summary>
    public IReadOnlyDictionary<string, string> ConfigEntries { get; init; } = new Dictionary<string, string>();
}
