namespace AutoGlm.Chat.Jinja;

/// <summary>The base of every template syntax node; <paramref name="Offset"/> is where it starts in the preprocessed text.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal abstract record TemplateNode(int Offset);
