namespace AutoGlm.Chat.Jinja;

/// <summary>The object <c>namespace()</c> makes: attributes that a loop body may assign and read after the loop.</summary>
/// <remarks>Not thread-safe; lives within one render.</remarks>
internal sealed class TemplateNamespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
