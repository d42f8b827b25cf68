namespace AutoGlm.Chat.Jinja;

/// <summary>Literal text.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record TextStatement(int Offset, string Text) : TemplateStatement(Offset);
