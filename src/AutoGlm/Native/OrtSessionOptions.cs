namespace AutoGlm.Native;

/// <summary>The settings a session is created with: threads, optimisation, config entries, execution providers, initializers.</summary>
/// <remarks>Not thread-safe; build it on one thread, then create sessions from it.</remarks>
internal sealed unsafe class OrtSessionOptions : IDisposable
{
    private readonly List<OrtValue> _initializers = [];

    public OrtSessionOptions()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        nint options;
        api.ThrowIfFailed(api.CreateSessionOptions(&options), "creating session options");
        Handle = new OrtSessionOptionsHandle(options, api);
    }

    public OrtSessionOptionsHandle Handle { get; }

    private static OrtApi Api => OrtRuntime.Instance.Api;

    /// <summary>Applies <paramref name="settings"/>.</summary>
    public static OrtSessionOptions From(OrtSessionSettings? settings)
    {
        settings ??= new OrtSessionSettings();
        var options = new OrtSessionOptions();
        try
        {
            if (settings.IntraOpThreads > 0)
            {
                options.SetIntraOpThreads(settings.IntraOpThreads);
            }

            options.SetGraphOptimizationLevel(settings.GraphOptimizationLevel);
            foreach ((string key, string value) in settings.ConfigEntries)
            {
                options.AddConfigEntry(key, value);
            }

            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    public void SetIntraOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Api.ThrowIfFailed(Api.SetIntraOpNumThreads(Raw, threads), $"setting intra-op threads to {threads}");
    }

    public void SetInterOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Api.ThrowIfFailed(Api.SetInterOpNumThreads(Raw, threads), $"setting inter-op threads to {threads}");
    }

    public void SetGraphOptimizationLevel(int level)
    {
        if (level is not (0 or 1 or 2 or 99))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "The graph optimisation level must be 0 (none), 1 (basic), 2 (extended) or 99 (all).");
        }

        Api.ThrowIfFailed(Api.SetSessionGraphOptimizationLevel(Raw, level), $"setting the graph optimisation level to {level}");
    }

    public void SetSequentialExecution() => Api.ThrowIfFailed(Api.SetSessionExecutionMode(Raw, 0), "setting sequential execution");

    public void DisableMemoryPattern() => Api.ThrowIfFailed(Api.DisableMemPattern(Raw), "disabling memory patterns");

    public void SetLogSeverity(OrtLoggingLevel level) => Api.ThrowIfFailed(Api.SetSessionLogSeverityLevel(Raw, (int)level), "setting the session log level");

    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var names = new Utf8NameTable([key, value]);
        Api.ThrowIfFailed(Api.AddSessionConfigEntry(Raw, names[0], names[1]), $"setting session config entry '{key}' = '{value}'");
        GC.KeepAlive(names);
    }

    /// <summary>Appends an execution provider by ONNX Runtime's name for it (e.g. <c>DML</c>), with string options.</summary>
    public void AppendExecutionProvider(string providerName, IReadOnlyDictionary<string, string>? providerOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerName);
        (string[] keys, string[] values) = Split(providerOptions);
        var name = new Utf8NameTable([providerName]);
        var keyTable = new Utf8NameTable(keys);
        var valueTable = new Utf8NameTable(values);
        Api.ThrowIfFailed(
            Api.SessionOptionsAppendExecutionProvider(Raw, name[0], keyTable.Pointers, valueTable.Pointers, (nuint)keys.Length),
            $"appending execution provider '{providerName}'");
        GC.KeepAlive(name);
        GC.KeepAlive(keyTable);
        GC.KeepAlive(valueTable);
    }

    /// <summary>Appends the CUDA execution provider (V2 options: <c>device_id</c> and any of ONNX Runtime's CUDA keys).</summary>
    public void AppendCuda(IReadOnlyDictionary<string, string> providerOptions)
    {
        ArgumentNullException.ThrowIfNull(providerOptions);
        nint cudaOptions;
        Api.ThrowIfFailed(Api.CreateCudaProviderOptions(&cudaOptions), "creating CUDA provider options");
        using var owned = new OrtCudaProviderOptionsHandle(cudaOptions, Api);
        (string[] keys, string[] values) = Split(providerOptions);
        var keyTable = new Utf8NameTable(keys);
        var valueTable = new Utf8NameTable(values);
        Api.ThrowIfFailed(Api.UpdateCudaProviderOptions(cudaOptions, keyTable.Pointers, valueTable.Pointers, (nuint)keys.Length), "setting CUDA provider options");
        GC.KeepAlive(keyTable);
        GC.KeepAlive(valueTable);
        Api.ThrowIfFailed(Api.SessionOptionsAppendExecutionProviderCudaV2(Raw, cudaOptions), "appending the CUDA execution provider");
    }

    /// <summary>
    /// Supplies the bytes of an external-data file (e.g. <c>model.onnx.data</c>) from memory the caller keeps alive
    /// for the session's lifetime (a memory map), so ONNX Runtime reads initializers from it instead of the file.
    /// </summary>
    public void AddExternalDataInMemory(string fileName, byte* data, nuint length)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var names = new Utf8NameTable([fileName]);
        byte* buffer = data;
        nuint size = length;
        Api.ThrowIfFailed(
            Api.AddExternalInitializersFromFilesInMemory(Raw, names.Pointers, &buffer, &size, 1),
            $"supplying external data '{fileName}' from memory");
        GC.KeepAlive(names);
    }

    /// <summary>Supplies a memory-mapped external-data file by its file name (as the model refers to it).</summary>
    public void AddExternalDataInMemory(MappedFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        AddExternalDataInMemory(System.IO.Path.GetFileName(file.Path), file.Pointer, (nuint)file.Length);
    }

    /// <summary>Supplies one initializer by name; the value stays alive with these options.</summary>
    public void AddInitializer(string name, OrtValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        var names = new Utf8NameTable([name]);
        Api.ThrowIfFailed(Api.AddInitializer(Raw, names[0], value.Handle.DangerousGetHandle()), $"adding initializer '{name}'");
        GC.KeepAlive(names);
        _initializers.Add(value);
    }

    /// <summary>Supplies initializers that replace external-data tensors of the same names; the values must outlive the session.</summary>
    public void AddExternalInitializers(IReadOnlyList<string> names, IReadOnlyList<OrtValue> values)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);
        if (names.Count != values.Count)
        {
            throw new ArgumentException($"{names.Count} names were given for {values.Count} values.", nameof(values));
        }

        var table = new Utf8NameTable(names);
        nint[] handles = new nint[values.Count];
        for (int i = 0; i < handles.Length; i++)
        {
            handles[i] = values[i].Handle.DangerousGetHandle();
        }

        fixed (nint* p = handles)
        {
            Api.ThrowIfFailed(Api.AddExternalInitializers(Raw, table.Pointers, p, (nuint)handles.Length), $"adding {handles.Length} external initializers");
        }

        GC.KeepAlive(table);

        _initializers.AddRange(values);
    }

    public void Dispose()
    {
        Handle.Dispose();
    }

    private nint Raw => Handle.DangerousGetHandle();

    private static (string[] Keys, string[] Values) Split(IReadOnlyDictionary<string, string>? options)
    {
        if (options is null || options.Count == 0)
        {
            return ([], []);
        }

        string[] keys = new string[options.Count];
        string[] values = new string[options.Count];
        int i = 0;
        foreach ((string key, string value) in options)
        {
            keys[i] = key;
            values[i] = value;
            i++;
        }

        return (keys, values);
    }
}
