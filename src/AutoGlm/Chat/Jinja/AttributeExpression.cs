namespace AutoGlm.Chat.Jinja;

/// <summary><c>target.name</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record AttributeExpression(int Offset, TemplateExpression Target, string Name) : TemplateExpression(Offset);
