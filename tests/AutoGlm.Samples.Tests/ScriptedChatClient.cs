using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// A chat client that answers with fixed updates (or throws a fixed exception before or after them) and records the
/// request it received, for testing the HTTP mapping independently of what the random model says.
/// </summary>
public sealed class ScriptedChatClient : IChatClient
{
    private readonly IReadOnlyList<ChatResponseUpdate> _updates;
    private readonly Exception? _before;
    private readonly Exception? _after;

    public ScriptedChatClient(IReadOnlyList<ChatResponseUpdate> updates, Exception? before = null, Exception? after = null)
    {
        _updates = updates;
        _before = before;
        _after = after;
    }

    public IReadOnlyList<ChatMessage>? LastMessages { get; private set; }

    public ChatOptions? LastOptions { get; private set; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        LastMessages = [.. messages];
        LastOptions = options;
        await Task.Yield();
        if (_before is not null)
        {
            throw _before;
        }

        foreach (ChatResponseUpdate update in _updates)
        {
            yield return update;
        }

        if (_after is not null)
        {
            throw _after;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
