namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>Loads real models, counting the loads; a load can be held at a gate or made to fail.</summary>
internal sealed class CountingModelLoader : IGlmModelLoader
{
    private readonly GlmModelLoader _inner = new();
    private int _loads;
    private TaskCompletionSource? _gate;

    public int LoadCount => Volatile.Read(ref _loads);

    public Exception? Failure { get; set; }

    public List<GlmModel> Loaded { get; } = [];

    public void HoldLoads() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseLoads() => _gate?.TrySetResult();

    public async Task<GlmModel> LoadAsync(string path, GlmModelOptions options, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        if (_gate is { } gate)
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
