namespace AutoGlm.Chat.Jinja;

/// <summary><c>target[index]</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record IndexExpression(int Offset, TemplateExpression Target, TemplateExpression Index) : TemplateExpression(Offset);
