using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The right to use one of a <see cref="GlmModelHost"/>'s models for one request. While a lease is held the model is not unloaded,
/// retired or disposed (except when a shutdown's drain timeout runs out); dispose the lease when the request is done.
/// </summary>
/// <remarks>Dispose may be called from any thread, more than once; only the first call releases the model.</remarks>
public sealed class GlmModelLease : IDisposable
{
    private readonly GlmModelHost _host;
    private readonly ModelSlot _slot;
    private int _released;

    internal GlmModelLease(GlmModelHost host, ModelSlot slot, bool isCandidate)
    {
        _host = host;
        _slot = slot;
        IsCandidate = isCandidate;
    }

    /// <summary>The model to run the request on.</summary>
    public GlmModel Model => _slot.Model;

    /// <summary>The folder the model was loaded from.</summary>
    public string ModelPath => _slot.ModelPath;

    /// <summary>The model's name in metrics and traces.</summary>
    public string ModelId => _slot.ModelId;

    /// <summary>Whether the request was routed to the candidate model of a gradual rollout.</summary>
    public bool IsCandidate { get; }

    internal IChatClient ChatClient => _slot.ChatClient;

    /// <summary>Releases the model; a model retired meanwhile is disposed when its last lease is released.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _host.Release(_slot);
        }
    }
}
