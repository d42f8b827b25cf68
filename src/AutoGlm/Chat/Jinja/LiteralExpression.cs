namespace AutoGlm.Chat.Jinja;

/// <summary>A constant: string, integer, float, boolean or none.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record LiteralExpression(int Offset, object? Value) : TemplateExpression(Offset);
