using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>One loaded model version inside a <see cref="GlmModelHost"/>: the model, the chat client over it, and the requests holding it.</summary>
/// <remarks>
/// <see cref="InFlight"/> and <see cref="Retiring"/> are read and written only under the host's lock; disposal is idempotent and may run on any thread.
/// </remarks>
internal sealed class ModelSlot
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposeStarted;

    public ModelSlot(GlmModel model, IChatClient chatClient, string modelPath, string modelId)
    {
        Model = model;
        ChatClient = chatClient;
        ModelPath = modelPath;
        ModelId = modelId;
    }

    public GlmModel Model { get; }

    public IChatClient ChatClient { get; }

    public string ModelPath { get; }

    public string ModelId { get; }

    /// <summary>Leases not yet released. Guarded by the host's lock.</summary>
    public int InFlight { get; set; }

    /// <summary>Whether no new lease may be taken; the slot is disposed once <see cref="InFlight"/> reaches 0. Guarded by the host's lock.</summary>
    public bool Retiring { get; set; }

    /// <summary>Completes when the model has been disposed.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>Disposes the chat client, then the model (which cancels whatever still runs on it). Only the first call does anything; never throws.</summary>
    public async Task DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            await _disposed.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            ChatClient.Dispose();
        }
#pragma warning disable CA1031 // Disposal never throws by contract; a failing chat client must not keep the model's memory alive.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        await Model.DisposeAsync().ConfigureAwait(false);
        _disposed.TrySetResult();
    }

    /// <summary>Disposes the chat client, then the model, on this thread (the host's synchronous <c>Dispose</c>). Only the first dispose does anything; never throws.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            return;
        }

        try
        {
            ChatClient.Dispose();
        }
#pragma warning disable CA1031 // Disposal never throws by contract; a failing chat client must not keep the model's memory alive.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        Model.Dispose();
        _disposed.TrySetResult();
    }
}
