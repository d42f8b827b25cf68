namespace AutoGlm.Native;

/// <summary>
/// Binds a session's inputs and outputs to values ahead of a run, so repeated runs (decode steps) reuse
/// the same buffers — for example one KV buffer bound as both past input and present output.
/// </summary>
/// <remarks>Not thread-safe: one binding per concurrent run.</remarks>
internal sealed unsafe class OrtIoBinding : IDisposable
{
    private readonly OrtSession _session;
    private readonly Dictionary<string, Utf8NameTable> _names = new(StringComparer.Ordinal);
    private readonly List<OrtValue> _bound = [];

    internal OrtIoBinding(OrtSession session, OrtSessionHandle sessionHandle)
    {
        _session = session;
        OrtApi api = OrtRuntime.Instance.Api;
        nint binding;
        api.ThrowIfFailed(api.CreateIoBinding(sessionHandle.DangerousGetHandle(), &binding), $"creating an I/O binding for '{session.Source}'");
        Handle = new OrtIoBindingHandle(binding, api);
    }

    public OrtIoBindingHandle Handle { get; }

    /// <summary>Binds <paramref name="value"/> to the input <paramref name="name"/>; the value must stay alive while bound.</summary>
    public void BindInput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        OrtApi api = OrtRuntime.Instance.Api;
        api.ThrowIfFailed(api.BindInput(Handle.DangerousGetHandle(), Name(name), value.Handle.DangerousGetHandle()), $"binding input '{name}' of '{_session.Source}'");
        _bound.Add(value);
    }

    /// <summary>Binds a pre-allocated <paramref name="value"/> as the output <paramref name="name"/>; the run writes into it.</summary>
    public void BindOutput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        OrtApi api = OrtRuntime.Instance.Api;
        api.ThrowIfFailed(api.BindOutput(Handle.DangerousGetHandle(), Name(name), value.Handle.DangerousGetHandle()), $"binding output '{name}' of '{_session.Source}'");
        _bound.Add(value);
    }

    /// <summary>Lets ONNX Runtime allocate the output <paramref name="name"/> in host memory.</summary>
    public void BindOutputToCpu(string name)
    {
        OrtApi api = OrtRuntime.Instance.Api;
        api.ThrowIfFailed(api.BindOutputToDevice(Handle.DangerousGetHandle(), Name(name), OrtRuntime.Instance.CpuMemoryInfo.DangerousGetHandle()), $"binding output '{name}' of '{_session.Source}' to host memory");
    }

    /// <summary>The outputs of the last run, in binding order; the caller owns (and disposes) them.</summary>
    public OrtValue[] GetOutputValues()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        nint allocator;
        api.ThrowIfFailed(api.GetAllocatorWithDefaultOptions(&allocator), "getting the default allocator");
        nint* values;
        nuint count;
        api.ThrowIfFailed(api.GetBoundOutputValues(Handle.DangerousGetHandle(), allocator, &values, &count), $"reading bound outputs of '{_session.Source}'");
        if (values == null || count == 0)
        {
            return [];
        }

        var result = new OrtValue[(int)count];
        try
        {
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = OrtValue.FromOwnedHandle(values[i]);
            }
        }
        finally
        {
            api.ThrowIfFailed(api.AllocatorFree(allocator, values), "freeing the bound-output array");
        }

        return result;
    }

    public void ClearInputs()
    {
        OrtRuntime.Instance.Api.ClearBoundInputs(Handle.DangerousGetHandle());
    }

    public void ClearOutputs()
    {
        OrtRuntime.Instance.Api.ClearBoundOutputs(Handle.DangerousGetHandle());
    }

    public void Dispose() => Handle.Dispose();

    private byte* Name(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_names.TryGetValue(name, out Utf8NameTable? table))
        {
            table = new Utf8NameTable([name]);
            _names[name] = table;
        }

        return table[0];
    }
}
