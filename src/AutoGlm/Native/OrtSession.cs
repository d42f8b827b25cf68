namespace AutoGlm.Native;

/// <summary>An ONNX Runtime inference session (CONTRACT STUB: implemented by the foundation work).</summary>
internal sealed partial class OrtSession : IDisposable
{
    /// <summary>Creates a CPU session for the model file at <paramref name="modelPath"/> (external data resolved beside it).</summary>
    public static OrtSession Create(string modelPath, OrtSessionSettings? settings = null) => throw new NotImplementedException();

    /// <summary>Creates a session from the model's bytes in memory.</summary>
    public static OrtSession Create(ReadOnlySpan<byte> modelBytes, OrtSessionSettings? settings = null) => throw new NotImplementedException();

    /// <summary>Input names in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Inputs => throw new NotImplementedException();

    /// <summary>Output names in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Outputs => throw new NotImplementedException();

    /// <summary>Runs the model once on host tensors and returns the requested outputs (all outputs when <paramref name="outputNames"/> is null). Allocates; for tools and tests.</summary>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string>? outputNames = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}

/// <summary>Name, element type and declared shape (-1 for a symbolic dimension, with its name) of a graph input or output.</summary>
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
