using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.Chat;

/// <summary>The chat history sent with every request (the model keeps no state between requests).</summary>
/// <remarks>Not thread-safe; used by the console loop only.</remarks>
internal sealed class Conversation
{
    private readonly List<ChatMessage> _messages = [];

    public IReadOnlyList<ChatMessage> Messages => _messages;

    public void AddUser(string text) => _messages.Add(new ChatMessage(ChatRole.User, text));

    /// <summary>Records the answer, also a partial one that was stopped, so the next turn sees what the user saw.</summary>
    public void AddAssistant(string text) => _messages.Add(new ChatMessage(ChatRole.Assistant, text));

    public void Reset() => _messages.Clear();

    /// <summary>Forgets the oldest exchange (everything before the second user message); false when only the latest question is left.</summary>
    public bool DropOldestExchange()
    {
        int next = _messages.FindIndex(1, m => m.Role == ChatRole.User);
        if (next < 0)
        {
            return false;
        }

        _messages.RemoveRange(0, next);
        return true;
    }
}
