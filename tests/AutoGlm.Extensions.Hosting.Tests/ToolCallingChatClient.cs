using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>
/// A scripted model's chat client: asked with tools and no function result yet, it calls the first tool with <c>city = Paris</c>;
/// given a function result, it answers <c>The weather: {result}</c>. Counts the requests that reach it.
/// </summary>
public sealed class ToolCallingChatClient : IChatClient
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        Interlocked.Increment(ref _calls);
        FunctionResultContent? result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
        if (result is null && options?.Tools?.OfType<AIFunctionDeclaration>().FirstOrDefault() is { } tool)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call-1", tool.Name, new Dictionary<string, object?> { ["city"] = "Paris" })])
            {
                ResponseId = "scripted-1",
                ModelId = "scripted",
                FinishReason = ChatFinishReason.ToolCalls,
            };
            yield break;
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, $"The weather: {result?.Result ?? "unknown"}")
        {
            ResponseId = "scripted-2",
            ModelId = "scripted",
            FinishReason = ChatFinishReason.Stop,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
