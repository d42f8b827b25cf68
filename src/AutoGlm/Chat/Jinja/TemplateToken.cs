namespace AutoGlm.Chat.Jinja;

/// <summary>One token of a template, with its offset in the preprocessed text.</summary>
internal readonly record struct TemplateToken(TemplateTokenKind Kind, string Value, int Offset)
{
    public bool Is(TemplateTokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsSymbol(string value) => Kind == TemplateTokenKind.Symbol && Value == value;

    public bool IsKeyword(string value) => Kind == TemplateTokenKind.Identifier && Value == value;
}
