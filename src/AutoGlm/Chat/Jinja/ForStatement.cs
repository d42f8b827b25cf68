namespace AutoGlm.Chat.Jinja;

/// <summary><c>{% for targets in iterable [if filter] %}</c> with an optional <c>else</c> for an empty sequence.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record ForStatement(int Offset, IReadOnlyList<string> Targets, TemplateExpression Iterable, TemplateExpression? Filter, IReadOnlyList<TemplateStatement> Body, IReadOnlyList<TemplateStatement> Else) : TemplateStatement(Offset);
