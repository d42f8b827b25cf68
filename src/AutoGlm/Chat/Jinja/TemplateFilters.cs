using System.Globalization;
using System.Net;
using System.Text;

namespace AutoGlm.Chat.Jinja;

/// <summary>The filters (<c>value | name(arguments)</c>) chat templates use.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateFilters
{
    public static object? Apply(string name, object? value, IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords)
    {
        object? Argument(int index, string keyword, object? fallback) =>
            index < arguments.Count ? arguments[index] : keywords.TryGetValue(keyword, out object? found) ? found : fallback;

        switch (name)
        {
            case "trim":
                return Argument(0, "chars", null) is string chars ? Text(value, name).Trim(chars.ToCharArray()) : Text(value, name).Trim();
            case "upper":
                return Text(value, name).ToUpperInvariant();
            case "lower":
                return Text(value, name).ToLowerInvariant();
            case "title":
                return Title(Text(value, name));
            case "capitalize":
                return Capitalize(Text(value, name));
            case "replace":
                return Replace(Text(value, name), Argument(0, "old", null), Argument(1, "new", null), Argument(2, "count", -1L));
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.Length,
                    List<object?> list => (long)list.Count,
                    OrderedDictionary<string, object?> dictionary => (long)dictionary.Count,
                    TemplateNamespace ns => (long)ns.Attributes.Count,
                    _ => throw new InvalidOperationException($"filter '{name}' needs a string, list or dict but got {TemplateValue.TypeName(value)}"),
                };
            case "tojson":
                return TemplateValue.ToJson(
                    value,
                    Argument(0, "indent", null) is long indent ? (int)indent : null,
                    TemplateValue.IsTruthy(Argument(1, "ensure_ascii", false)),
                    Argument(2, "separators", null) is List<object?> { Count: 2 } separators
                        ? (TemplateValue.ToOutput(separators[0]), TemplateValue.ToOutput(separators[1]))
                        : null,
                    TemplateValue.IsTruthy(Argument(3, "sort_keys", false)));
            case "string":
                return TemplateValue.ToOutput(value);
            case "safe" or "e" or "escape" or "forceescape":
                return name == "safe" ? value : WebUtility.HtmlEncode(TemplateValue.ToOutput(value));
            case "default" or "d":
                bool boolean = TemplateValue.IsTruthy(Argument(1, "boolean", false));
                return value is TemplateUndefined || (boolean && !TemplateValue.IsTruthy(value)) ? Argument(0, "default_value", "") : value;
            case "first":
                return TemplateMethods.AsList(value) is { Count: > 0 } firstOf ? firstOf[0] : new TemplateUndefined("first");
            case "last":
                return TemplateMethods.AsList(value) is { Count: > 0 } lastOf ? lastOf[^1] : new TemplateUndefined("last");
            case "list":
                return new List<object?>(TemplateMethods.AsList(value));
            case "reverse":
                return value is string reversed ? new string([.. reversed.Reverse()]) : Enumerable.Reverse(TemplateMethods.AsList(value)).ToList();
            case "join":
                string separator = Argument(0, "d", "") as string ?? "";
                IEnumerable<object?> joined = TemplateMethods.AsList(value);
                if (Argument(1, "attribute", null) is string joinAttribute)
                {
                    joined = joined.Select(item => TemplateMethods.GetAttribute(item, joinAttribute, "an item"));
                }

                return Join(separator, joined);
            case "items":
                return value is OrderedDictionary<string, object?> itemsOf
                    ? itemsOf.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : throw new InvalidOperationException($"filter 'items' needs a dict but got {TemplateValue.TypeName(value)}");
            case "dictsort":
                return value is OrderedDictionary<string, object?> sortOf
                    ? sortOf.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : throw new InvalidOperationException($"filter 'dictsort' needs a dict but got {TemplateValue.TypeName(value)}");
            case "unique":
                var unique = new List<object?>();
                foreach (object? item in TemplateMethods.AsList(value))
                {
                    if (!unique.Any(u => TemplateValue.AreEqual(u, item)))
                    {
                        unique.Add(item);
                    }
                }

                return unique;
            case "sort":
                return Sort(value, TemplateValue.IsTruthy(Argument(0, "reverse", false)), TemplateValue.IsTruthy(Argument(1, "case_sensitive", false)), Argument(2, "attribute", null) as string);
            case "map":
                List<object?> source = TemplateMethods.AsList(value);
                if (keywords.TryGetValue("attribute", out object? mapAttribute))
                {
                    string attributeName = TemplateValue.ToOutput(mapAttribute);
                    object? fallback = keywords.TryGetValue("default", out object? mapDefault) ? mapDefault : null;
                    return source.Select(item =>
                    {
                        object? found = TemplateMethods.GetAttribute(item, attributeName, "an item");
                        return found is TemplateUndefined && keywords.ContainsKey("default") ? fallback : found;
                    }).ToList();
                }

                if (arguments.Count > 0 && arguments[0] is string filterName)
                {
                    return source.Select(item => Apply(filterName, item, [.. arguments.Skip(1)], new Dictionary<string, object?>())).ToList();
                }

                throw new InvalidOperationException("filter 'map' needs attribute= or a filter name");
            case "selectattr" or "rejectattr":
                bool keep = name == "selectattr";
                string attribute = TemplateValue.ToOutput(Argument(0, "attribute", null));
                return TemplateMethods.AsList(value).Where(item =>
                {
                    object? field = TemplateMethods.GetAttribute(item, attribute, "an item");
                    bool passed = arguments.Count > 1
                        ? TemplateTestFunctions.Apply(TemplateValue.ToOutput(arguments[1]), field, [.. arguments.Skip(2)])
                        : TemplateValue.IsTruthy(field);
                    return passed == keep;
                }).ToList();
            case "select" or "reject":
                bool selecting = name == "select";
                return TemplateMethods.AsList(value).Where(item =>
                {
                    bool passed = arguments.Count > 0
                        ? TemplateTestFunctions.Apply(TemplateValue.ToOutput(arguments[0]), item, [.. arguments.Skip(1)])
                        : TemplateValue.IsTruthy(item);
                    return passed == selecting;
                }).ToList();
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)Math.Truncate(d),
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed) => parsed,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double real) => (long)Math.Truncate(real),
                    _ => Argument(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long l => (double)l,
                    double d => d,
                    bool b => b ? 1.0 : 0.0,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
                    _ => Argument(0, "default", 0.0),
                };
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    _ => throw new InvalidOperationException($"filter 'abs' needs a number but got {TemplateValue.TypeName(value)}"),
                };
            case "round":
                int precision = Argument(0, "precision", 0L) is long p ? (int)p : 0;
                return Math.Round(TemplateValue.ToDouble(value), precision, MidpointRounding.AwayFromZero);
            case "max" or "min":
                List<object?> numbers = TemplateMethods.AsList(value);
                if (numbers.Count == 0)
                {
                    return new TemplateUndefined(name);
                }

                object? best = numbers[0];
                foreach (object? item in numbers.Skip(1))
                {
                    int order = TemplateValue.Compare(item, best);
                    if (name == "max" ? order > 0 : order < 0)
                    {
                        best = item;
                    }
                }

                return best;
            case "sum":
                object? total = Argument(1, "start", 0L);
                foreach (object? item in TemplateMethods.AsList(value))
                {
                    total = total is long a && item is long b ? a + b : TemplateValue.ToDouble(total) + TemplateValue.ToDouble(item);
                }

                return total;
            case "indent":
                return Indent(Text(value, name), Argument(0, "width", 4L), TemplateValue.IsTruthy(Argument(1, "first", false)), TemplateValue.IsTruthy(Argument(2, "blank", false)));
            case "wordcount":
                return (long)Text(value, name).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            default:
                throw new InvalidOperationException($"unknown filter '{name}'");
        }
    }

    /// <summary>Joins the items' text, refusing before it builds more than the rendering's text limit.</summary>
    public static string Join(string separator, IEnumerable<object?> items)
    {
        var result = new StringBuilder();
        bool first = true;
        foreach (object? item in items)
        {
            string text = TemplateValue.ToOutput(item);
            TemplateBudget.CheckLength((long)result.Length + text.Length + (first ? 0 : separator.Length));
            if (!first)
            {
                result.Append(separator);
            }

            result.Append(text);
            first = false;
        }

        return result.ToString();
    }

    public static string Replace(string text, object? old, object? replacement, object? count)
    {
        string from = old as string ?? throw new InvalidOperationException("replace needs the text to replace");
        string to = replacement as string ?? TemplateValue.ToOutput(replacement);
        long limit = count is long c ? c : -1;
        long occurrences = from.Length == 0 ? text.Length + 1L : TemplateMethods.CountOccurrences(text, from);
        if (limit >= 0)
        {
            occurrences = Math.Min(occurrences, limit);
        }

        TemplateBudget.CheckLength(text.Length + (occurrences * ((long)to.Length - from.Length)));
        if (limit < 0)
        {
            return from.Length == 0 ? string.Join(to, ["", .. text.Select(ch => ch.ToString()), ""]) : text.Replace(from, to, StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        int position = 0;
        for (long i = 0; i < limit; i++)
        {
            int found = text.IndexOf(from, position, StringComparison.Ordinal);
            if (found < 0 || from.Length == 0)
            {
                break;
            }

            result.Append(text, position, found - position).Append(to);
            position = found + from.Length;
        }

        return result.Append(text, position, text.Length - position).ToString();
    }

    public static string Title(string text)
    {
        var result = new StringBuilder(text.Length);
        bool startOfWord = true;
        foreach (char c in text)
        {
            result.Append(startOfWord ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            startOfWord = !char.IsLetterOrDigit(c);
        }

        return result.ToString();
    }

    public static string Capitalize(string text) =>
        text.Length == 0 ? text : string.Concat(char.ToUpperInvariant(text[0]).ToString(), text[1..].ToLowerInvariant());

    private static string Text(object? value, string filter) => value switch
    {
        string s => s,
        null or TemplateUndefined => "",
        _ => TemplateValue.ToOutput(value),
    };

    private static List<object?> Sort(object? value, bool reverse, bool caseSensitive, string? attribute)
    {
        List<object?> items = [.. TemplateMethods.AsList(value)];
        object? Key(object? item)
        {
            object? key = attribute is null ? item : TemplateMethods.GetAttribute(item, attribute, "an item");
            return !caseSensitive && key is string s ? s.ToLowerInvariant() : key;
        }

        List<object?> sorted = [.. items.Order(Comparer<object?>.Create((a, b) => TemplateValue.Compare(Key(a), Key(b))))];
        if (reverse)
        {
            sorted.Reverse();
        }

        return sorted;
    }

    private static string Indent(string text, object? width, bool first, bool blank)
    {
        string pad = width switch
        {
            long n => new string(' ', (int)Math.Clamp(n, 0, 1000)),
            string s => s,
            _ => "    ",
        };
        string[] lines = text.Split('\n');
        TemplateBudget.CheckLength(text.Length + ((long)lines.Length * pad.Length));
        var result = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                result.Append('\n');
            }

            if ((i > 0 || first) && (blank || lines[i].Length > 0))
            {
                result.Append(pad);
            }

            result.Append(lines[i]);
        }

        return result.ToString();
    }
}
