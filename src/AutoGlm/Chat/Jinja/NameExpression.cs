namespace AutoGlm.Chat.Jinja;

/// <summary>A variable.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record NameExpression(int Offset, string Name) : TemplateExpression(Offset);
