namespace AutoGlm.Chat.Jinja;

/// <summary>The tests (<c>value is name</c>) chat templates use.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateTestFunctions
{
    public static bool Apply(string name, object? value, IReadOnlyList<object?> arguments)
    {
        object? Argument(int index) => index < arguments.Count ? arguments[index] : throw new InvalidOperationException($"test '{name}' needs an argument");

        return name switch
        {
            "defined" => value is not TemplateUndefined,
            "undefined" => value is TemplateUndefined,
            "none" => value is null,
            "string" => value is string,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "mapping" => value is OrderedDictionary<string, object?>,
            "iterable" => value is List<object?> or string or OrderedDictionary<string, object?>,
            "sequence" => value is List<object?> or string or OrderedDictionary<string, object?>,
            "callable" => value is TemplateCallable,
            "odd" => value is long odd ? odd % 2 != 0 : throw new InvalidOperationException($"test 'odd' needs an integer but got {TemplateValue.TypeName(value)}"),
            "even" => value is long even ? even % 2 == 0 : throw new InvalidOperationException($"test 'even' needs an integer but got {TemplateValue.TypeName(value)}"),
            "divisibleby" => value is long n && Argument(0) is long d && d != 0 && n % d == 0,
            "lower" => value is string lower && string.Equals(lower, lower.ToLowerInvariant(), StringComparison.Ordinal),
            "upper" => value is string upper && string.Equals(upper, upper.ToUpperInvariant(), StringComparison.Ordinal),
            "eq" or "equalto" or "==" or "sameas" => TemplateValue.AreEqual(value, Argument(0)),
            "ne" or "!=" => !TemplateValue.AreEqual(value, Argument(0)),
            "in" => TemplateMethods.Contains(Argument(0), value),
            "gt" or ">" or "greaterthan" => TemplateValue.Compare(value, Argument(0)) > 0,
            "ge" or ">=" => TemplateValue.Compare(value, Argument(0)) >= 0,
            "lt" or "<" or "lessthan" => TemplateValue.Compare(value, Argument(0)) < 0,
            "le" or "<=" => TemplateValue.Compare(value, Argument(0)) <= 0,
            _ => throw new InvalidOperationException($"unknown test '{name}'"),
        };
    }
}
