namespace AutoGlm.Chat.Jinja;

/// <summary><c>{% if %}</c> with its <c>elif</c> / <c>else</c> branches (an elif is a nested IfStatement in Else).</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record IfStatement(int Offset, TemplateExpression Condition, IReadOnlyList<TemplateStatement> Then, IReadOnlyList<TemplateStatement> Else) : TemplateStatement(Offset);
