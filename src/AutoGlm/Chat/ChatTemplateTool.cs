using System.Text.Json;

namespace AutoGlm.Chat;

/// <summary>A function the model may call, as chat templates receive it (<c>{"type": "function", "function": {"name", "description", "parameters"}}</c>).</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed class ChatTemplateTool
{
    /// <summary>Creates a tool definition.</summary>
    /// <param name="name">The function's name.</param>
    /// <param name="description">What it does, for the model.</param>
    /// <param name="parameters">The JSON schema of its arguments; null for a function without parameters.</param>
    public ChatTemplateTool(string name, string? description, JsonElement? parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Description = description;
        Parameters = parameters;
    }

    /// <summary>The function's name.</summary>
    public string Name { get; }

    /// <summary>What it does, or null.</summary>
    public string? Description { get; }

    /// <summary>The JSON schema of its arguments, or null.</summary>
    public JsonElement? Parameters { get; }
}
