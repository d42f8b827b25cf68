namespace AutoGlm.Chat.Jinja;

/// <summary><c>value is [not] name(arguments)</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record TestExpression(int Offset, TemplateExpression Value, string Name, bool Negated, IReadOnlyList<TemplateExpression> Arguments) : TemplateExpression(Offset);
