using AutoGlm.Runtime;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = AutoGlm.Runtime.TensorElementType;

namespace AutoGlm.Tests.Runtime;

public sealed class OrtSessionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-native-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Create_FromBytes_ReadsInputAndOutputDescriptions()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.MatMul());

        Assert.Equal(["X", "W"], session.Inputs.Select(i => i.Name));
        Assert.Equal(["Y"], session.Outputs.Select(o => o.Name));
        Assert.Equal(TensorElementType.Float, session.Inputs[0].ElementType);
        Assert.Equal([-1L, 2L], session.Inputs[0].Shape);
        Assert.Equal("d0", session.Inputs[0].SymbolicDims[0]);
        Assert.Equal([2L, 2L], session.Inputs[1].Shape);
    }

    [Fact]
    public void Run_HostTensors_AddsExactly()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.Add());

        IReadOnlyDictionary<string, HostTensor> outputs = session.Run(new Dictionary<string, HostTensor>
        {
            ["A"] = HostTensor.Create(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3),
            ["B"] = HostTensor.Create(new float[] { 0.5f, -2, 10, 0, 1e-3f, -6 }, 2, 3),
        });

        HostTensor c = outputs["C"];
        Assert.Equal([2L, 3L], c.Shape);
        Assert.Equal([1.5f, 0f, 13f, 4f, 5.001f, 0f], c.As<float>());
    }

    [Fact]
    public void Run_IoBinding_ReusesBoundBuffersAcrossRuns()
    {
        using var bound = new BoundMatMul();

        bound.Run();
        Assert.Equal([1f, 2f], bound.Y);

        // Same binding, new contents in the caller's buffers: no rebinding needed.
        bound.X[0] = 3;
        bound.W[1] = 1;
        bound.Run();
        Assert.Equal([3f, 5f], bound.Y);
    }

    [Fact]
    public void Run_IoBindingSteadyState_AllocatesNothingManaged()
    {
        using var bound = new BoundMatMul();
        bound.Run();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            bound.Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Y = X · W on a session, with the three caller buffers bound once.</summary>
    private sealed class BoundMatMul : IDisposable
    {
        private readonly OrtSession _session = OrtSession.Create(TestGraphs.MatMul());
        private readonly OrtValue[] _values;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _runOptions = new();

        public BoundMatMul()
        {
            _values = [OrtValue.CreateTensorValueFromMemory(X, [1, 2]), OrtValue.CreateTensorValueFromMemory(W, [2, 2]), OrtValue.CreateTensorValueFromMemory(Y, [1, 2])];
            _binding = _session.CreateIoBinding();
            _binding.BindInput("X", _values[0]);
            _binding.BindInput("W", _values[1]);
            _binding.BindOutput("Y", _values[2]);
        }

        public float[] X { get; } = [1, 2];

        public float[] W { get; } = [1, 0, 0, 1];

        public float[] Y { get; } = new float[2];

        public void Run() => _session.Run(_binding, _runOptions);

        public void Dispose()
        {
            _binding.Dispose();
            foreach (OrtValue value in _values)
            {
                value.Dispose();
            }

            _runOptions.Dispose();
            _session.Dispose();
        }
    }

    [Fact]
    public void Run_UnknownInputName_ThrowsNamingTheInputAndTheModelsInputs()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.Add());

        var ex = Assert.Throws<AutoGlmNativeException>(() => session.Run(new Dictionary<string, HostTensor>
        {
            ["A"] = HostTensor.Create(new float[6], 2, 3),
            ["Bee"] = HostTensor.Create(new float[6], 2, 3),
        }));

        Assert.Equal(OnnxRuntimeErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.Contains("no input named 'Bee'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Its inputs are: A, B.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongElementType_ThrowsNativeExceptionWithInputsGivenAndDeclared()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.Add());

        var ex = Assert.Throws<AutoGlmNativeException>(() => session.Run(new Dictionary<string, HostTensor>
        {
            ["A"] = HostTensor.Create(new long[6], 2, 3),
            ["B"] = HostTensor.Create(new float[6], 2, 3),
        }));

        Assert.Equal(OnnxRuntimeErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.Contains("'<memory>'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Inputs given: A Int64 [2,3], B Float [2,3].", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Inputs the model declares: A Float [2,3], B Float [2,3].", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongShape_ThrowsNativeExceptionWithTheShapeGiven()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.Add());

        var ex = Assert.Throws<AutoGlmNativeException>(() => session.Run(new Dictionary<string, HostTensor>
        {
            ["A"] = HostTensor.Create(new float[4], 2, 2),
            ["B"] = HostTensor.Create(new float[6], 2, 3),
        }));

        Assert.Equal(OnnxRuntimeErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.Contains("A Float [2,2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NonexistentFile_ThrowsModelLoadExceptionWithPath()
    {
        string path = Path.Combine(_folder, "missing.onnx");

        var ex = Assert.Throws<ModelLoadException>(() => OrtSession.Create(path));

        Assert.Contains($"'{path}' does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_CorruptFile_ThrowsModelLoadExceptionWrappingTheNativeCode()
    {
        string path = Path.Combine(_folder, "corrupt.onnx");
        byte[] model = TestGraphs.Add();
        File.WriteAllBytes(path, model.AsSpan(0, model.Length / 2).ToArray());

        var ex = Assert.Throws<ModelLoadException>(() => OrtSession.Create(path));

        Assert.Contains($"'{path}' could not be loaded", ex.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<AutoGlmNativeException>(ex.InnerException);
        Assert.Equal(OnnxRuntimeErrorCode.InvalidProtobuf, inner.ErrorCode);
    }

    [Fact]
    public void Create_ModelForANewerOnnxRuntime_ThrowsSayingSoAndTheFix()
    {
        byte[] model = TestGraphs.Add();
        Assert.Equal([0x08, 0x08], model[..2]); // field 1 (ir_version) = 8, written first
        model[1] = 99; // an IR version no ONNX Runtime 1.31 knows
        string path = Path.Combine(_folder, "newer.onnx");
        File.WriteAllBytes(path, model);

        var ex = Assert.Throws<ModelLoadException>(() => OrtSession.Create(path));

        Assert.Contains("Unsupported model IR version: 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"The model was written for a newer ONNX Runtime than the one loaded ({OrtRuntime.ExpectedVersion}). Rebuild it with this version's 'autoglm build', or update AutoGlm", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_GarbageBytes_ThrowsModelLoadException()
    {
        byte[] garbage = Enumerable.Range(0, 256).Select(i => (byte)(i * 37)).ToArray();

        var ex = Assert.Throws<ModelLoadException>(() => OrtSession.Create(garbage));

        Assert.IsType<AutoGlmNativeException>(ex.InnerException);
        Assert.Contains("256 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_CancelledDuringRun_ThrowsOperationCanceled()
    {
        const int N = 768;
        using OrtSession session = OrtSession.Create(TestGraphs.MatMulChain(400));
        var identityish = new float[N * N];
        for (int i = 0; i < N; i++)
        {
            identityish[(i * N) + i] = 1;
        }

        var inputs = new Dictionary<string, HostTensor>
        {
            ["X"] = HostTensor.Create(identityish, N, N),
            ["W"] = HostTensor.Create((float[])identityish.Clone(), N, N),
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(inputs, cancellationToken: cts.Token));
    }

    [Fact]
    public void Run_TerminatedRunOptions_ThrowsOperationCanceledAndClearingAllowsReuse()
    {
        using OrtSession session = OrtSession.Create(TestGraphs.Add());
        float[] c = new float[6];
        using OrtValue a = OrtValue.CreateTensorValueFromMemory(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        using OrtValue cv = OrtValue.CreateTensorValueFromMemory(c, [2, 3]);
        using OrtIoBinding binding = session.CreateIoBinding();
        binding.BindInput("A", a);
        binding.BindInput("B", a);
        binding.BindOutput("C", cv);
        using var runOptions = new RunOptions { Terminate = true };

        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(binding, runOptions));

        runOptions.Terminate = false;
        session.Run(binding, runOptions);
        Assert.Equal([2f, 4f, 6f, 8f, 10f, 12f], c);
    }

    [Fact]
    public async Task Dispose_WhileAnotherRunHoldsTheSession_DoesNotCrash()
    {
        const int N = 256;
        OrtSession session = OrtSession.Create(TestGraphs.MatMulChain(200));
        var inputs = new Dictionary<string, HostTensor>
        {
            ["X"] = HostTensor.Create(new float[N * N], N, N),
            ["W"] = HostTensor.Create(new float[N * N], N, N),
        };
        Task<IReadOnlyDictionary<string, HostTensor>> run = Task.Run(() => session.Run(inputs));
        await Task.Delay(20);

        session.Dispose();

        // Either the run took hold of the session before Dispose (then it completes on the still-referenced
        // native session) or it started after (then it is refused); never a native crash.
        Exception? failure = await Record.ExceptionAsync(() => run);
        if (failure is null)
        {
            Assert.Equal(new long[] { N, N }, (await run)["Y"].Shape);
        }
        else
        {
            Assert.IsType<ObjectDisposedException>(failure);
        }

        Assert.Throws<ObjectDisposedException>(() => session.Run(inputs));
    }
}
