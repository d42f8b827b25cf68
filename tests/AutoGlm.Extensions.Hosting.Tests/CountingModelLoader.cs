namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>Loads real models, counting the loads; a load can be held at a gate or made to fail.</summary>
internal sealed class CountingModelLoader : IGlmModelLoader
{
    private readonly GlmModelLoader _inner = new();
    private int _loads;
    private TaskCompletionSource? _gate;
    private string? _gatedPath;

    public int LoadCount => Volatile.Read(ref _loads);

    public Exception? Failure { get; set; }

    public List<GlmModel> Loaded { get; } = [];

    /// <summary>Holds every load (or only those of <paramref name="path"/>) until <see cref="ReleaseLoads"/>.</summary>
    public void HoldLoads(string? path = null)
    {
        _gatedPath = path;
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void ReleaseLoads() => _gate?.TrySetResult();

    public async Task<GlmModel> LoadAsync(string path, GlmModelOptions options, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        if (_gate is { } gate && (_gatedPath is null || _gatedPath == path))
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Failure is { } failure)
        {
            throw failure;
        }

        GlmModel model = await _inner.LoadAsync(path, options, cancellationToken);
        lock (Loaded)
        {
            Loaded.Add(model);
        }

        return model;
    }
}
