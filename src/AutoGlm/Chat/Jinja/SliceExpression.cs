namespace AutoGlm.Chat.Jinja;

/// <summary><c>target[start:stop:step]</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record SliceExpression(int Offset, TemplateExpression Target, TemplateExpression? Start, TemplateExpression? Stop, TemplateExpression? Step) : TemplateExpression(Offset);
