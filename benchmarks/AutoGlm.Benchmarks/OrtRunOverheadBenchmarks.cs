using AutoGlm.Native;
using AutoGlm.Tests.Native;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// The cost of AutoGlm's binding around one tiny <c>Run</c> (a [2,3] Add): the raw function-pointer call with
/// prepared names and values (baseline) against <see cref="OrtSession.Run(OrtRunOptions?, ReadOnlySpan{int}, ReadOnlySpan{OrtValue}, ReadOnlySpan{int}, Span{OrtValue?})"/>
/// (SafeHandle reference counting, name lookup by index, status check).
/// </summary>
[MemoryDiagnoser]
public unsafe class OrtRunOverheadBenchmarks
{
    private OrtSession _session = null!;
    private OrtSessionHandle _rawSession = null!;
    private OrtValue _a = null!;
    private OrtValue _b = null!;
    private OrtValue _c = null!;
    private OrtValue?[] _outputs = null!;
    private Utf8NameTable _inputNames = null!;
    private Utf8NameTable _outputNames = null!;
    private nint[] _inputValues = null!;
    private nint[] _outputValues = null!;

    [GlobalSetup]
    public void Setup()
    {
        var settings = new OrtSessionSettings { IntraOpThreads = 1 };
        _session = OrtSession.Create(TestGraphs.Add(), settings);
        byte[] model = TestGraphs.Add();
        OrtRuntime runtime = OrtRuntime.Instance;
        using OrtSessionOptions options = OrtSessionOptions.From(settings);
        nint raw;
        fixed (byte* p = model)
        {
            runtime.Api.ThrowIfFailed(runtime.Api.CreateSessionFromArray(runtime.Env.DangerousGetHandle(), p, (nuint)model.Length, options.Handle.DangerousGetHandle(), &raw), "benchmark session");
        }

        _rawSession = new OrtSessionHandle(raw, runtime.Api);
        _a = OrtValue.CreateTensor<float>(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        _b = OrtValue.CreateTensor<float>(new float[] { 6, 5, 4, 3, 2, 1 }, [2, 3]);
        _c = OrtValue.CreateTensor<float>(new float[6], [2, 3]);
        _outputs = [_c];
        _inputNames = new Utf8NameTable(["A", "B"]);
        _outputNames = new Utf8NameTable(["C"]);
        _inputValues = GC.AllocateArray<nint>(2, pinned: true);
        _inputValues[0] = _a.Handle.DangerousGetHandle();
        _inputValues[1] = _b.Handle.DangerousGetHandle();
        _outputValues = GC.AllocateArray<nint>(1, pinned: true);
        _outputValues[0] = _c.Handle.DangerousGetHandle();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _rawSession.Dispose();
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw OrtApi.Run")]
    public void RawRun()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        fixed (nint* inputs = _inputValues)
        fixed (nint* outputs = _outputValues)
        {
            nint status = api.Run(_rawSession.DangerousGetHandle(), 0, _inputNames.Pointers, inputs, 2, _outputNames.Pointers, 1, outputs);
            api.ThrowIfFailed(status, "benchmark run");
        }
    }

    [Benchmark(Description = "OrtSession.Run")]
    public void BoundRun()
    {
        _session.Run(null, [0, 1], [_a, _b], [0], _outputs);
    }
}
