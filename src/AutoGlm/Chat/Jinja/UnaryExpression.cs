namespace AutoGlm.Chat.Jinja;

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record UnaryExpression(int Offset, string Operator, TemplateExpression Operand) : TemplateExpression(Offset);
