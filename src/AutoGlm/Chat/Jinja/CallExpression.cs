namespace AutoGlm.Chat.Jinja;

/// <summary><c>callee(arguments, name=value)</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record CallExpression(int Offset, TemplateExpression Callee, IReadOnlyList<TemplateExpression> Arguments, IReadOnlyList<(string Name, TemplateExpression Value)> KeywordArguments) : TemplateExpression(Offset);
