using System.Diagnostics.Metrics;
using AutoGlm.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// Measures each request of a hosted registration once, as its caller sees it (waiting for a model load included): one
/// <c>chat {model}</c> span and the <c>gen_ai.client.*</c> metrics, defined by <see cref="AutoGlmInstruments"/>. The chat clients over
/// the loaded models below it see the request already measured and add nothing; a <c>chat</c> span that Microsoft.Extensions.AI's
/// <c>UseOpenTelemetry()</c> started above it is reused, not doubled.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class GlmModelHostTelemetryChatClient : DelegatingChatClient
{
    private readonly GlmModelHost _host;
    private readonly AutoGlmInstruments? _instruments;
    private readonly TimeProvider _time;

    public GlmModelHostTelemetryChatClient(GlmModelHostChatClient inner, IServiceProvider services)
        : base(inner)
    {
        _host = inner.Host;
        _instruments = AutoGlmInstruments.For(services.GetService<IMeterFactory>());
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
    }

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return ChatTelemetry.MeasureAsync(() => base.GetResponseAsync(messages, options, cancellationToken), _instruments, _time, _host.ModelId, options);
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return ChatTelemetry.MeasureStreamingAsync(
            () => base.GetStreamingResponseAsync(messages, options, cancellationToken), _instruments, _time, _host.ModelId, options, cancellationToken);
    }
}
