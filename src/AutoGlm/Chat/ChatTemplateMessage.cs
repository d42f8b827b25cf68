namespace AutoGlm.Chat;

/// <summary>One message of a conversation, as chat templates receive it (<c>{"role", "content", ...}</c>).</summary>
/// <remarks>Immutable once built; safe to share between threads.</remarks>
public sealed class ChatTemplateMessage
{
    /// <summary>Creates a message.</summary>
    /// <param name="role">The role: <c>system</c>, <c>user</c>, <c>assistant</c>, <c>tool</c> (GLM templates also know <c>observation</c>).</param>
    /// <param name="content">The text, or null (an assistant message that only calls tools).</param>
    public ChatTemplateMessage(string role, string? content)
    {
        ArgumentException.ThrowIfNullOrEmpty(role);
        Role = role;
        Content = content;
    }

    /// <summary>The role.</summary>
    public string Role { get; }

    /// <summary>The text, or null.</summary>
    public string? Content { get; }

    /// <summary>The tool calls of an assistant message (<c>tool_calls</c>), or null.</summary>
    public IReadOnlyList<ChatTemplateToolCall>? ToolCalls { get; init; }

    /// <summary>The tool's name for a tool-result message (<c>name</c>), or null.</summary>
    public string? Name { get; init; }

    /// <summary>The id of the call a tool-result message answers (<c>tool_call_id</c>), or null.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>GLM's <c>metadata</c> field (for GLM-4 templates, the function name of an assistant call), or null.</summary>
    public string? Metadata { get; init; }

    /// <summary>Further fields the template reads from the message (for example <c>tools</c> on a GLM-4-9B system message).</summary>
    public IReadOnlyDictionary<string, object?>? AdditionalProperties { get; init; }
}
