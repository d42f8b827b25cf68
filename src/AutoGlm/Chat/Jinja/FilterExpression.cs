namespace AutoGlm.Chat.Jinja;

/// <summary><c>value | name(arguments)</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record FilterExpression(int Offset, TemplateExpression Value, string Name, IReadOnlyList<TemplateExpression> Arguments, IReadOnlyList<(string Name, TemplateExpression Value)> KeywordArguments) : TemplateExpression(Offset);
