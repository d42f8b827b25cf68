namespace AutoGlm.Chat.Jinja;

/// <summary>The value of a name or key that does not exist; it renders as nothing and is falsy.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class TemplateUndefined
{
    public TemplateUndefined(string name) => Name = name;

    /// <summary>What was looked up, for error messages.</summary>
    public string Name { get; }
}
