using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.DeviceAgent.Tests;

/// <summary>
/// A model that, for the first request of a turn, calls the tools it was given (by name, with fixed arguments), and
/// once it sees their results answers with text listing them. It records every tool result it received, which is
/// exactly what a real model would be told.
/// </summary>
public sealed class ScriptedToolModel : IChatClient
{
    private readonly IReadOnlyList<FunctionCallContent> _calls;

    public ScriptedToolModel(params FunctionCallContent[] calls) => _calls = calls;

    public List<FunctionResultContent> ResultsSeen { get; } = [];

    public List<ChatOptions?> OptionsSeen { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        OptionsSeen.Add(options);
        ChatMessage last = messages.Last();
        List<FunctionResultContent> results = [.. last.Contents.OfType<FunctionResultContent>()];
        if (results.Count == 0)
        {
            List<AIContent> calls = [.. _calls.Select(c => new FunctionCallContent(c.CallId, c.Name, c.Arguments))];
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, calls)) { FinishReason = ChatFinishReason.ToolCalls });
        }

        ResultsSeen.AddRange(results);
        string text = "Done: " + string.Join(" | ", results.Select(r => System.Text.Json.JsonSerializer.Serialize(r.Result, DeviceJson.Options)));
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { FinishReason = ChatFinishReason.Stop });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatResponse response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (ChatResponseUpdate update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
