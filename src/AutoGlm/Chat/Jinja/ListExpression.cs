namespace AutoGlm.Chat.Jinja;

/// <summary><c>[a, b]</c> or a tuple <c>(a, b)</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record ListExpression(int Offset, IReadOnlyList<TemplateExpression> Items) : TemplateExpression(Offset);
