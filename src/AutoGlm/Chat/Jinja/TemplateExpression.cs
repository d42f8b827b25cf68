namespace AutoGlm.Chat.Jinja;

/// <summary>An expression.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal abstract record TemplateExpression(int Offset) : TemplateNode(Offset);
