namespace AutoGlm.Chat.Jinja;

/// <summary><c>left operator right</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record BinaryExpression(int Offset, string Operator, TemplateExpression Left, TemplateExpression Right) : TemplateExpression(Offset);
