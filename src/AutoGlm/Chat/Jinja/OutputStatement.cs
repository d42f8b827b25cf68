namespace AutoGlm.Chat.Jinja;

/// <summary><c>{{ expression }}</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record OutputStatement(int Offset, TemplateExpression Value) : TemplateStatement(Offset);
