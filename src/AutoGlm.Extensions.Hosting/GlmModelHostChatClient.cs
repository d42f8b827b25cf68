using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The <see cref="IChatClient"/> that <c>AddAutoGlm</c> registers: for each request it takes a lease on one of the host's
/// models (loading it when needed, following a rollout's traffic split), delegates to the chat client over that model, and
/// records the request's span and metrics.
/// </summary>
/// <remarks>Thread-safe. Disposing it does nothing: the host owns the models and their chat clients.</remarks>
internal sealed class GlmModelHostChatClient : IChatClient
{
    private readonly GlmModelHost _host;
    private readonly AutoGlmMetrics _metrics;
    private readonly TimeProvider _time;

    public GlmModelHostChatClient(GlmModelHost host, AutoGlmMetrics metrics, TimeProvider time)
    {
        _host = host;
        _metrics = metrics;
        _time = time;
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var telemetry = new ChatRequestTelemetry(_metrics, _time, options);
        try
        {
            using GlmModelLease lease = await _host.AcquireAsync(cancellationToken).ConfigureAwait(false);
            telemetry.OnLease(lease);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _host.Aborted);
            ChatResponse response = await lease.ChatClient.GetResponseAsync(messages, options, linked.Token).ConfigureAwait(false);
            telemetry.OnResponse(response);
            return response;
        }
        catch (Exception ex)
        {
            telemetry.OnError(ex);
            throw;
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var telemetry = new ChatRequestTelemetry(_metrics, _time, options);
        GlmModelLease lease;
        try
        {
            lease = await _host.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            telemetry.OnError(ex);
            throw;
        }

        using (lease)
        {
            telemetry.OnLease(lease);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _host.Aborted);
            IAsyncEnumerator<ChatResponseUpdate> updates = lease.ChatClient.GetStreamingResponseAsync(messages, options, linked.Token).GetAsyncEnumerator(linked.Token);
            try
            {
                while (true)
                {
                    try
                    {
                        if (!await updates.MoveNextAsync().ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                    catch (Exception ex)
                    {
                        telemetry.OnError(ex);
                        throw;
                    }

                    telemetry.OnUpdate(updates.Current);
                    yield return updates.Current;
                }
            }
            finally
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }
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
                return _host;
            }

            if (serviceType == typeof(ChatClientMetadata))
            {
                return new ChatClientMetadata(AutoGlmMetrics.ProviderName, providerUri: null, defaultModelId: _host.ModelId);
            }

            if (serviceType == typeof(GlmModel))
            {
                return _host.LoadedModel;
            }
        }

        return _host.LoadedChatClient?.GetService(serviceType, serviceKey);
    }

    public void Dispose()
    {
    }
}
