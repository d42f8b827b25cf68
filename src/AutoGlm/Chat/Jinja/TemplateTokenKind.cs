namespace AutoGlm.Chat.Jinja;

/// <summary>The kinds of template tokens.</summary>
internal enum TemplateTokenKind
{
    /// <summary>Literal text outside tags.</summary>
    Text,

    /// <summary><c>{%</c></summary>
    OpenStatement,

    /// <summary><c>%}</c></summary>
    CloseStatement,

    /// <summary><c>{{</c></summary>
    OpenExpression,

    /// <summary><c>}}</c></summary>
    CloseExpression,

    /// <summary>A name or keyword.</summary>
    Identifier,

    /// <summary>A quoted string (value unescaped).</summary>
    String,

    /// <summary>An integer literal.</summary>
    Integer,

    /// <summary>A floating-point literal.</summary>
    Float,

    /// <summary>An operator or punctuation.</summary>
    Symbol,

    /// <summary>The end of the template.</summary>
    End,
}
