namespace AutoGlm.Chat.Jinja;

/// <summary><c>then if condition else otherwise</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record ConditionalExpression(int Offset, TemplateExpression Condition, TemplateExpression Then, TemplateExpression? Otherwise) : TemplateExpression(Offset);
