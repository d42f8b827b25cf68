namespace AutoGlm.Chat.Jinja;

/// <summary>Variables visible at a point of a render; a loop body or macro call gets a child scope.</summary>
/// <remarks>Not thread-safe; lives within one render.</remarks>
internal sealed class TemplateScope
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);
    private readonly TemplateScope? _parent;

    public TemplateScope(TemplateScope? parent) => _parent = parent;

    public object? Lookup(string name)
    {
        for (TemplateScope? scope = this; scope is not null; scope = scope._parent)
        {
            if (scope._variables.TryGetValue(name, out object? value))
            {
                return value;
            }
        }

        return new TemplateUndefined(name);
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
