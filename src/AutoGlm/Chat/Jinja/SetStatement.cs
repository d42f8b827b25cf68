namespace AutoGlm.Chat.Jinja;

/// <summary><c>{% set target = value %}</c>, or the block form when <paramref name="Value"/> is null.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record SetStatement(int Offset, TemplateExpression Target, TemplateExpression? Value, IReadOnlyList<TemplateStatement> Body) : TemplateStatement(Offset);
