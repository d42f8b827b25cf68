namespace AutoGlm.Chat.Jinja;

/// <summary><c>{% macro name(parameters) %}</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record MacroStatement(int Offset, string Name, IReadOnlyList<string> Parameters, IReadOnlyList<TemplateExpression?> Defaults, IReadOnlyList<TemplateStatement> Body) : TemplateStatement(Offset);
