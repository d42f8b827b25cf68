using System.Runtime.CompilerServices;
using AutoGlm.Diagnostics;
using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The innermost client of a registration's pipeline: for each request it takes a lease on one of the host's models (loading it
/// when needed, following a rollout's traffic split) and delegates to the chat client over that model. It measures nothing itself
/// (<see cref="GlmModelHostTelemetryChatClient"/> does); it tells the request's telemetry which model version served it.
/// </summary>
/// <remarks>Thread-safe. Disposing it does nothing: the host owns the models and their chat clients.</remarks>
internal sealed class GlmModelHostChatClient : IChatClient
{
    public GlmModelHostChatClient(GlmModelHost host)
    {
        Host = host;
    }

    public GlmModelHost Host { get; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using GlmModelLease lease = await Host.AcquireAsync(cancellationToken).ConfigureAwait(false);
        ChatTelemetry.Current?.OnRouted(lease.ModelPath, lease.IsCandidate);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Host.Aborted);
        return await lease.ChatClient.GetResponseAsync(messages, options, linked.Token).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using GlmModelLease lease = await Host.AcquireAsync(cancellationToken).ConfigureAwait(false);
        ChatTelemetry.Current?.OnRouted(lease.ModelPath, lease.IsCandidate);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Host.Aborted);
        await foreach (ChatResponseUpdate update in lease.ChatClient.GetStreamingResponseAsync(messages, options, linked.Token).WithCancellation(linked.Token).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null)
        {
            if (serviceType.IsInstanceOfType(this))
            {
                return this;
            }

            if (serviceType == typeof(GlmModelHost))
            {
                return Host;
            }

            if (serviceType == typeof(ChatClientMetadata))
            {
                return new ChatClientMetadata(AutoGlmTelemetry.ProviderName, providerUri: null, defaultModelId: Host.ModelId);
            }

            if (serviceType == typeof(GlmModel))
            {
                return Host.LoadedModel;
            }
        }

        return Host.LoadedChatClient?.GetService(serviceType, serviceKey);
    }

    public void Dispose()
    {
    }
}
