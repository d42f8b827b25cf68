namespace AutoGlm.Chat;

/// <summary>A function call an assistant message made, as chat templates receive it (<c>{"type": "function", "function": {"name", "arguments"}}</c>).</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed class ChatTemplateToolCall
{
    /// <summary>Creates a tool call.</summary>
    /// <param name="name">The function's name.</param>
    /// <param name="arguments">The arguments by name; values are strings, numbers, booleans, null, lists, dictionaries or JSON elements.</param>
    /// <param name="id">The call's id, when the conversation uses ids.</param>
    public ChatTemplateToolCall(string name, IReadOnlyDictionary<string, object?> arguments, string? id = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(arguments);
        Name = name;
        Arguments = arguments;
        Id = id;
    }

    /// <summary>The function's name.</summary>
    public string Name { get; }

    /// <summary>The arguments by name.</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; }

    /// <summary>The call's id, or null.</summary>
    public string? Id { get; }
}
