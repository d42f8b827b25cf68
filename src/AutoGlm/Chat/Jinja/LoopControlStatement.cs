namespace AutoGlm.Chat.Jinja;

/// <summary><c>{% break %}</c> or <c>{% continue %}</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record LoopControlStatement(int Offset, bool IsBreak) : TemplateStatement(Offset);
