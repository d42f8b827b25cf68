using System.Runtime.InteropServices;
using System.Text;

namespace AutoGlm.Native;

/// <summary>
/// An ONNX Runtime inference session: created from a model file or bytes, with its input and output
/// descriptions read once, and runs over <see cref="OrtValue"/>s (the hot path) or host tensors (tools, tests).
/// </summary>
/// <remarks>
/// Thread-safe: ONNX Runtime allows concurrent runs on one session. Disposal while a run is in progress
/// is safe: the native session is released when the last run returns.
/// </remarks>
internal sealed unsafe class OrtSession : IDisposable
{
    private readonly OrtSessionHandle _handle;
    private readonly Utf8NameTable _inputNames;
    private readonly Utf8NameTable _outputNames;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;

    private OrtSession(OrtSessionHandle handle, string source)
    {
        _handle = handle;
        Source = source;
        OrtApi api = OrtRuntime.Instance.Api;
        Inputs = ReadNodes(api, handle.DangerousGetHandle(), isInput: true);
        Outputs = ReadNodes(api, handle.DangerousGetHandle(), isInput: false);
        _inputNames = new Utf8NameTable(Inputs.Select(i => i.Name).ToArray());
        _outputNames = new Utf8NameTable(Outputs.Select(o => o.Name).ToArray());
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
        using OrtSessionOptions options = OrtSessionOptions.From(settings);
        return Create(modelPath, options);
    }

    /// <summary>Creates a session for the model file with prepared options (providers, in-memory external data).</summary>
    /// <exception cref="ModelLoadException">The file does not exist or is not a loadable ONNX model.</exception>
    public static OrtSession Create(string modelPath, OrtSessionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        string fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new ModelLoadException($"The ONNX model file '{fullPath}' does not exist. Check the path, or build a model folder with 'autoglm build'.");
        }

        OrtRuntime runtime = OrtRuntime.Instance;
        OrtApi api = runtime.Api;
        int byteCount = Encoding.UTF8.GetByteCount(fullPath);
        byte[] pathBytes = new byte[byteCount + 1];
        Encoding.UTF8.GetBytes(fullPath, pathBytes);
        nint session;
        nint status;
        fixed (byte* path = pathBytes)
        {
            status = api.CreateSession(runtime.Env.DangerousGetHandle(), path, options.Handle.DangerousGetHandle(), &session);
        }

        if (status != 0)
        {
            AutoGlmNativeException inner = api.ToException(status, $"loading the ONNX model '{fullPath}'");
            throw new ModelLoadException(
                $"The ONNX model '{fullPath}' could not be loaded: {inner.Message} Check that the file is a complete ONNX model (rebuild it with 'autoglm build') and that its external data file sits beside it.",
                inner);
        }

        return new OrtSession(new OrtSessionHandle(session, api), fullPath);
    }

    /// <summary>Creates a CPU session from the model's bytes in memory.</summary>
    /// <exception cref="ModelLoadException">The bytes are not a loadable ONNX model.</exception>
    public static OrtSession Create(ReadOnlySpan<byte> modelBytes, OrtSessionSettings? settings = null)
    {
        using OrtSessionOptions options = OrtSessionOptions.From(settings);
        OrtRuntime runtime = OrtRuntime.Instance;
        OrtApi api = runtime.Api;
        nint session;
        nint status;
        fixed (byte* data = modelBytes)
        {
            status = api.CreateSessionFromArray(runtime.Env.DangerousGetHandle(), data, (nuint)modelBytes.Length, options.Handle.DangerousGetHandle(), &session);
        }

        if (status != 0)
        {
            AutoGlmNativeException inner = api.ToException(status, $"loading an ONNX model from {modelBytes.Length} bytes in memory");
            throw new ModelLoadException($"An in-memory ONNX model ({modelBytes.Length} bytes) could not be loaded: {inner.Message}", inner);
        }

        return new OrtSession(new OrtSessionHandle(session, api), "<memory>");
    }

    /// <summary>The index of the input named <paramref name="name"/>, or -1.</summary>
    public int IndexOfInput(string name) => _inputIndex.TryGetValue(name, out int i) ? i : -1;

    /// <summary>The index of the output named <paramref name="name"/>, or -1.</summary>
    public int IndexOfOutput(string name) => _outputIndex.TryGetValue(name, out int i) ? i : -1;

    /// <summary>
    /// Runs the model: <paramref name="inputs"/>[k] feeds input <paramref name="inputIndices"/>[k]; each output
    /// <paramref name="outputIndices"/>[k] is written into <paramref name="outputs"/>[k] when that value is given
    /// (pre-allocated, e.g. a KV buffer), or allocated by ONNX Runtime and returned there otherwise.
    /// Allocates nothing managed when every output is pre-allocated.
    /// </summary>
    /// <exception cref="AutoGlmNativeException">ONNX Runtime rejected the inputs or failed; the message names the model.</exception>
    /// <exception cref="OperationCanceledException">The run was terminated through <paramref name="runOptions"/> for cancellation.</exception>
    public void Run(OrtRunOptions? runOptions, ReadOnlySpan<int> inputIndices, ReadOnlySpan<OrtValue> inputs, ReadOnlySpan<int> outputIndices, Span<OrtValue?> outputs)
    {
        if (inputIndices.Length != inputs.Length || outputIndices.Length != outputs.Length)
        {
            throw new ArgumentException("Each input and output needs exactly one index.");
        }

        OrtApi api = OrtRuntime.Instance.Api;
        const int StackLimit = 512; // names and values for up to 250 layers' KV cache on the stack
        int inCount = inputs.Length;
        int outCount = outputs.Length;
        byte** inNames = stackalloc byte*[Math.Min(inCount, StackLimit)];
        nint* inValues = stackalloc nint[Math.Min(inCount, StackLimit)];
        byte** outNames = stackalloc byte*[Math.Min(outCount, StackLimit)];
        nint* outValues = stackalloc nint[Math.Min(outCount, StackLimit)];
        if (inCount > StackLimit || outCount > StackLimit)
        {
            RunLarge(runOptions, inputIndices, inputs, outputIndices, outputs);
            return;
        }

        bool sessionAdded = false;
        bool runOptionsAdded = false;
        int valuesAdded = 0;
        int outputsSeen = 0;
        bool* outputAdded = stackalloc bool[outCount];
        try
        {
            _handle.DangerousAddRef(ref sessionAdded);
            for (int i = 0; i < inCount; i++)
            {
                inNames[i] = _inputNames[inputIndices[i]];
                bool added = false;
                inputs[i].Handle.DangerousAddRef(ref added);
                valuesAdded++;
                inValues[i] = inputs[i].Handle.DangerousGetHandle();
            }

            for (int i = 0; i < outCount; i++)
            {
                outNames[i] = _outputNames[outputIndices[i]];
                outValues[i] = 0;
                outputAdded[i] = false;
                outputsSeen++;
                if (outputs[i] is { } preallocated)
                {
                    preallocated.Handle.DangerousAddRef(ref outputAdded[i]);
                    outValues[i] = preallocated.Handle.DangerousGetHandle();
                }
            }

            nint runOptionsHandle = 0;
            if (runOptions is not null)
            {
                runOptions.Handle.DangerousAddRef(ref runOptionsAdded);
                runOptionsHandle = runOptions.Handle.DangerousGetHandle();
            }

            nint status = api.Run(_handle.DangerousGetHandle(), runOptionsHandle, inNames, inValues, (nuint)inCount, outNames, (nuint)outCount, outValues);
            if (status != 0)
            {
                ThrowRunFailure(api, status, runOptions, inputIndices, inputs);
            }

            for (int i = 0; i < outCount; i++)
            {
                if (outputs[i] is null)
                {
                    outputs[i] = OrtValue.FromOwnedHandle(outValues[i]);
                }
            }
        }
        finally
        {
            for (int i = 0; i < valuesAdded; i++)
            {
                inputs[i].Handle.DangerousRelease();
            }

            for (int i = 0; i < outputsSeen; i++)
            {
                // Only values the caller passed in were AddRef'd; outputs ONNX Runtime allocated are new and owned.
                if (outputAdded[i])
                {
                    outputs[i]!.Handle.DangerousRelease();
                }
            }

            if (runOptionsAdded)
            {
                runOptions!.Handle.DangerousRelease();
            }

            if (sessionAdded)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Runs through an I/O binding (inputs and outputs bound beforehand).</summary>
    public void Run(OrtIoBinding binding, OrtRunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(binding);
        OrtApi api = OrtRuntime.Instance.Api;
        bool sessionAdded = false;
        bool bindingAdded = false;
        bool runOptionsAdded = false;
        try
        {
            _handle.DangerousAddRef(ref sessionAdded);
            binding.Handle.DangerousAddRef(ref bindingAdded);
            nint runOptionsHandle = 0;
            if (runOptions is not null)
            {
                runOptions.Handle.DangerousAddRef(ref runOptionsAdded);
                runOptionsHandle = runOptions.Handle.DangerousGetHandle();
            }

            nint status = api.RunWithBinding(_handle.DangerousGetHandle(), runOptionsHandle, binding.Handle.DangerousGetHandle());
            if (status != 0)
            {
                ThrowRunFailure(api, status, runOptions, [], []);
            }
        }
        finally
        {
            if (runOptionsAdded)
            {
                runOptions!.Handle.DangerousRelease();
            }

            if (bindingAdded)
            {
                binding.Handle.DangerousRelease();
            }

            if (sessionAdded)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Creates an I/O binding for this session.</summary>
    public OrtIoBinding CreateIoBinding() => new(this, _handle);

    /// <summary>Runs the model once on host tensors and returns the requested outputs (all outputs when <paramref name="outputNames"/> is null). Allocates; for tools and tests.</summary>
    /// <exception cref="AutoGlmNativeException">An input name, element type or shape was rejected; the message names the model and the inputs given.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before or during the run.</exception>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        outputNames ??= Outputs.Select(o => o.Name).ToArray();

        int[] inputIndices = new int[inputs.Count];
        var inputValues = new OrtValue[inputs.Count];
        int[] outputIndices = new int[outputNames.Count];
        var outputValues = new OrtValue?[outputNames.Count];
        int created = 0;
        try
        {
            int k = 0;
            foreach ((string name, HostTensor tensor) in inputs)
            {
                int index = IndexOfInput(name);
                if (index < 0)
                {
                    throw new AutoGlmNativeException(
                        OnnxRuntimeErrorCode.InvalidArgument,
                        $"The model '{Source}' has no input named '{name}'. Its inputs are: {string.Join(", ", Inputs.Select(i => i.Name))}.");
                }

                inputIndices[k] = index;
                inputValues[k] = ToOrtValue(tensor);
                created++;
                k++;
            }

            for (int i = 0; i < outputNames.Count; i++)
            {
                int index = IndexOfOutput(outputNames[i]);
                if (index < 0)
                {
                    throw new AutoGlmNativeException(
                        OnnxRuntimeErrorCode.InvalidArgument,
                        $"The model '{Source}' has no output named '{outputNames[i]}'. Its outputs are: {string.Join(", ", Outputs.Select(o => o.Name))}.");
                }

                outputIndices[i] = index;
            }

            using var runOptions = new OrtRunOptions();
            using (cancellationToken.Register(static state => ((OrtRunOptions)state!).Terminate(), runOptions))
            {
                Run(runOptions, inputIndices, inputValues, outputIndices, outputValues);
            }

            var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
            for (int i = 0; i < outputNames.Count; i++)
            {
                result[outputNames[i]] = ToHostTensor(outputValues[i]!);
            }

            return result;
        }
        catch (AutoGlmNativeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"The run of '{Source}' was cancelled.", cancellationToken);
        }
        finally
        {
            for (int i = 0; i < created; i++)
            {
                inputValues[i].Dispose();
            }

            foreach (OrtValue? value in outputValues)
            {
                value?.Dispose();
            }
        }
    }

    /// <summary>Releases the session once no run is using it.</summary>
    public void Dispose() => _handle.Dispose();

    private static OrtValue ToOrtValue(HostTensor tensor) => tensor.Data switch
    {
        float[] a => OrtValue.CreateTensor<float>(a, tensor.Shape),
        Half[] a => OrtValue.CreateTensor<Half>(a, tensor.Shape),
        long[] a => OrtValue.CreateTensor<long>(a, tensor.Shape),
        int[] a => OrtValue.CreateTensor<int>(a, tensor.Shape),
        byte[] a => OrtValue.CreateTensor<byte>(a, tensor.Shape),
        sbyte[] a => OrtValue.CreateTensor<sbyte>(a, tensor.Shape),
        double[] a => OrtValue.CreateTensor<double>(a, tensor.Shape),
        bool[] a => OrtValue.CreateTensor<bool>(a, tensor.Shape),
        short[] a => OrtValue.CreateTensor<short>(a, tensor.Shape),
        ushort[] a => OrtValue.CreateTensor<ushort>(a, tensor.Shape),
        uint[] a => OrtValue.CreateTensor<uint>(a, tensor.Shape),
        ulong[] a => OrtValue.CreateTensor<ulong>(a, tensor.Shape),
        _ => throw new NotSupportedException($"Host tensors of {tensor.Data.GetType().Name} are not supported."),
    };

    private static HostTensor ToHostTensor(OrtValue value)
    {
        long[] shape = value.GetShape();
        return value.ElementType switch
        {
            TensorElementType.Float => HostTensor.Create(value.GetTensorData<float>().ToArray(), shape),
            TensorElementType.Float16 => HostTensor.Create(value.GetTensorData<Half>().ToArray(), shape),
            TensorElementType.Int64 => HostTensor.Create(value.GetTensorData<long>().ToArray(), shape),
            TensorElementType.Int32 => HostTensor.Create(value.GetTensorData<int>().ToArray(), shape),
            TensorElementType.UInt8 => HostTensor.Create(value.GetTensorData<byte>().ToArray(), shape),
            TensorElementType.Int8 => HostTensor.Create(value.GetTensorData<sbyte>().ToArray(), shape),
            TensorElementType.Double => HostTensor.Create(value.GetTensorData<double>().ToArray(), shape),
            TensorElementType.Bool => HostTensor.Create(value.GetTensorData<bool>().ToArray(), shape),
            _ => throw new NotSupportedException($"Outputs of element type {value.ElementType} are not supported as host tensors."),
        };
    }

    private void RunLarge(OrtRunOptions? runOptions, ReadOnlySpan<int> inputIndices, ReadOnlySpan<OrtValue> inputs, ReadOnlySpan<int> outputIndices, Span<OrtValue?> outputs)
    {
        // Rare (more than 512 inputs or outputs): bind through an I/O binding instead.
        using OrtIoBinding binding = CreateIoBinding();
        for (int i = 0; i < inputs.Length; i++)
        {
            binding.BindInput(Inputs[inputIndices[i]].Name, inputs[i]);
        }

        for (int i = 0; i < outputs.Length; i++)
        {
            if (outputs[i] is { } preallocated)
            {
                binding.BindOutput(Outputs[outputIndices[i]].Name, preallocated);
            }
            else
            {
                binding.BindOutputToCpu(Outputs[outputIndices[i]].Name);
            }
        }

        Run(binding, runOptions);
        OrtValue[] produced = binding.GetOutputValues();
        for (int i = 0; i < outputs.Length; i++)
        {
            if (outputs[i] is null)
            {
                outputs[i] = produced[i];
            }
            else
            {
                produced[i].Dispose();
            }
        }
    }

    private void ThrowRunFailure(OrtApi api, nint status, OrtRunOptions? runOptions, ReadOnlySpan<int> inputIndices, ReadOnlySpan<OrtValue> inputs)
    {
        (OnnxRuntimeErrorCode code, string message) = api.ReadAndRelease(status);
        if (runOptions is { IsTerminated: true })
        {
            throw new OperationCanceledException($"The run of '{Source}' was terminated: {message}");
        }

        var given = new StringBuilder();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (i > 0)
            {
                given.Append(", ");
            }

            OrtNodeInfo node = Inputs[inputIndices[i]];
            given.Append(node.Name).Append(' ').Append(inputs[i].ElementType).Append(" [").Append(string.Join(",", inputs[i].GetShape())).Append(']');
        }

        string expected = string.Join(", ", Inputs.Select(n => $"{n.Name} {n.ElementType} [{string.Join(",", n.Shape.Select((d, j) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : n.SymbolicDims[j] is { Length: > 0 } s ? s : "?"))}]"));
        throw new AutoGlmNativeException(
            code,
            $"ONNX Runtime failed to run the model '{Source}': [{code}] {message}" +
            (inputs.Length > 0 ? $" Inputs given: {given}. Inputs the model declares: {expected}." : string.Empty));
    }

    private static OrtNodeInfo[] ReadNodes(OrtApi api, nint session, bool isInput)
    {
        nuint count;
        api.ThrowIfFailed(isInput ? api.SessionGetInputCount(session, &count) : api.SessionGetOutputCount(session, &count), "counting the model's inputs and outputs");
        nint allocator;
        api.ThrowIfFailed(api.GetAllocatorWithDefaultOptions(&allocator), "getting the default allocator");
        var nodes = new OrtNodeInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* namePtr;
            api.ThrowIfFailed(isInput ? api.SessionGetInputName(session, i, allocator, &namePtr) : api.SessionGetOutputName(session, i, allocator, &namePtr), "reading a model input or output name");
            string name;
            try
            {
                name = Marshal.PtrToStringUTF8((nint)namePtr) ?? string.Empty;
            }
            finally
            {
                api.ThrowIfFailed(api.AllocatorFree(allocator, namePtr), "freeing a name");
            }

            nint typeInfo;
            api.ThrowIfFailed(isInput ? api.SessionGetInputTypeInfo(session, i, &typeInfo) : api.SessionGetOutputTypeInfo(session, i, &typeInfo), $"reading the type of '{name}'");
            using var ownedTypeInfo = new OrtTypeInfoHandle(typeInfo, api);
            nodes[(int)i] = ReadNode(api, name, typeInfo);
        }

        return nodes;
    }

    private static OrtNodeInfo ReadNode(OrtApi api, string name, nint typeInfo)
    {
        int onnxType;
        api.ThrowIfFailed(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), $"reading the kind of '{name}'");
        const int OnnxTypeTensor = 1;
        if (onnxType != OnnxTypeTensor)
        {
            return new OrtNodeInfo(name, TensorElementType.Undefined, [], []);
        }

        nint tensorInfo; // borrowed from typeInfo: not released separately
        api.ThrowIfFailed(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), $"reading the tensor type of '{name}'");
        int elementType;
        nuint rank;
        api.ThrowIfFailed(api.GetTensorElementType(tensorInfo, &elementType), $"reading the element type of '{name}'");
        api.ThrowIfFailed(api.GetDimensionsCount(tensorInfo, &rank), $"reading the rank of '{name}'");
        long[] dims = new long[(int)rank];
        string[] symbolic = new string[(int)rank];
        byte*[] symbolicPtrs = new byte*[(int)rank];
        fixed (long* d = dims)
        fixed (byte** s = symbolicPtrs)
        {
            api.ThrowIfFailed(api.GetDimensions(tensorInfo, d, rank), $"reading the dimensions of '{name}'");
            api.ThrowIfFailed(api.GetSymbolicDimensions(tensorInfo, s, rank), $"reading the symbolic dimensions of '{name}'");
        }

        for (int i = 0; i < symbolic.Length; i++)
        {
            symbolic[i] = Marshal.PtrToStringUTF8((nint)symbolicPtrs[i]) ?? string.Empty;
        }

        return new OrtNodeInfo(name, (TensorElementType)elementType, dims, symbolic);
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
