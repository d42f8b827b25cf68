namespace AutoGlm.Chat;

/// <summary>Defaults and behaviour of an <see cref="AutoGlmChatClient"/>.</summary>
/// <remarks>Immutable once given to the client; safe to share.</remarks>
public sealed record AutoGlmChatClientOptions
{
    /// <summary>The most tokens generated when <c>ChatOptions.MaxOutputTokens</c> is not set.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 512;

    /// <summary>The model id reported in responses and metadata; the model folder's name by default.</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// Other ids the client answers to in <c>ChatOptions.ModelId</c> (e.g. <c>glm-4</c>, which Semantic Kernel sends from
    /// <c>PromptExecutionSettings.ModelId</c>); empty by default, so any id but <see cref="ModelId"/> is rejected. Responses
    /// report <see cref="ModelId"/>; spans report the requested id as <c>gen_ai.request.model</c> and <see cref="ModelId"/> as <c>gen_ai.response.model</c>.
    /// </summary>
    public IReadOnlyList<string> ModelAliases { get; init; } = [];

    /// <summary>The chat template to render prompts with, instead of the model folder's <c>chat_template</c>.</summary>
    public ChatTemplate? ChatTemplate { get; init; }

    /// <summary>
    /// The sandbox limits for the model folder's chat template (and the built-in ones): nesting depth, macro
    /// recursion, loop iterations, output length and render time. Null means <see cref="Chat.TemplateLimits.Default"/>.
    /// A <see cref="ChatTemplate"/> given above keeps the limits it was parsed with.
    /// </summary>
    public TemplateLimits? TemplateLimits { get; init; }

    /// <summary>Whether <c>&lt;think&gt;…&lt;/think&gt;</c> at the start of an answer becomes <c>TextReasoningContent</c> (true) or stays in the text.</summary>
    public bool ParseReasoning { get; init; } = true;
}
