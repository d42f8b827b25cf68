namespace AutoGlm.Chat.Jinja;

/// <summary>A statement (text, output, or a block tag).</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal abstract record TemplateStatement(int Offset) : TemplateNode(Offset);
