namespace AutoGlm.Chat.Jinja;

/// <summary><c>{key: value}</c>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record DictionaryExpression(int Offset, IReadOnlyList<(TemplateExpression Key, TemplateExpression Value)> Entries) : TemplateExpression(Offset);
