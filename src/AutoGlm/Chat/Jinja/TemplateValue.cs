using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoGlm.Chat.Jinja;

/// <summary>
/// The value model of the template engine and its rules: null is <c>none</c>, <see cref="TemplateUndefined"/>
/// is undefined, then bool, long, double, string, <c>List&lt;object?&gt;</c> and
/// <c>OrderedDictionary&lt;string, object?&gt;</c>. Printing and JSON follow @huggingface/jinja, which is
/// what Hugging Face chat templates are checked against in JavaScript.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateValue
{
    /// <summary>Converts a .NET value (JSON, dictionaries, lists, numbers) into the template value model.</summary>
    public static object? From(object? value) => value switch
    {
        null => null,
        TemplateUndefined or string or bool or long or double or TemplateNamespace or TemplateCallable => value,
        List<object?> list => list,
        OrderedDictionary<string, object?> dictionary => dictionary,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        ulong ul => (double)ul,
        float f => (double)f,
        decimal d => (double)d,
        char c => c.ToString(),
        JsonElement element => FromJson(element),
        JsonNode node => FromJson(JsonSerializer.SerializeToElement(node, TemplateJsonContext.Default.JsonNode)),
        IDictionary<string, object?> map => ToDictionary(map.Select(kv => (kv.Key, kv.Value))),
        IReadOnlyDictionary<string, object?> map => ToDictionary(map.Select(kv => (kv.Key, kv.Value))),
        IDictionary map => ToDictionary(map.Cast<DictionaryEntry>().Select(e => (Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value))),
        IEnumerable items => items.Cast<object?>().Select(From).ToList(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    public static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToDictionary(element.EnumerateObject().Select(p => (p.Name, (object?)p.Value))),
        JsonValueKind.Array => element.EnumerateArray().Select(e => FromJson(e)).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out long l) ? l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    public static bool IsTruthy(object? value) => value switch
    {
        null or TemplateUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0 && !double.IsNaN(d),
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dictionary => dictionary.Count > 0,
        _ => true,
    };

    /// <summary>The text <c>{{ value }}</c> prints.</summary>
    public static string ToOutput(object? value) => value switch
    {
        null or TemplateUndefined => "",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        List<object?> or OrderedDictionary<string, object?> or TemplateNamespace => ToJson(value, null, false, null, false, undefinedAsNull: false),
        _ => value.ToString() ?? "",
    };

    public static string FormatFloat(double value)
    {
        if (double.IsInteger(value) && Math.Abs(value) < 1e21)
        {
            return value == 0 && double.IsNegative(value) ? "-0.0" : value.ToString("F1", CultureInfo.InvariantCulture);
        }

        return FormatNumber(value);
    }

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        TemplateUndefined u => $"undefined ('{u.Name}')",
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        TemplateNamespace => "namespace",
        TemplateCallable => "function",
        _ => value.GetType().Name,
    };

    public static bool AreEqual(object? left, object? right) => (left, right) switch
    {
        (null or TemplateUndefined, null or TemplateUndefined) => true,
        (long a, long b) => a == b,
        (long a, double b) => a == b,
        (double a, long b) => a == b,
        (double a, double b) => a == b,
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        (bool a, bool b) => a == b,
        (bool a, long b) => (a ? 1 : 0) == b,
        (long a, bool b) => a == (b ? 1 : 0),
        _ => ReferenceEquals(left, right),
    };

    public static int Compare(object? left, object? right) => (left, right) switch
    {
        (long a, long b) => a.CompareTo(b),
        (long or double or bool, long or double or bool) => ToDouble(left).CompareTo(ToDouble(right)),
        (string a, string b) => string.CompareOrdinal(a, b),
        _ => throw new InvalidOperationException($"cannot compare {TypeName(left)} with {TypeName(right)}"),
    };

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException($"expected a number but got {TypeName(value)}"),
    };

    /// <summary>JSON as the <c>tojson</c> filter writes it (Python's <c>json.dumps</c> separators, non-ASCII kept unless asked).</summary>
    public static string ToJson(object? value, int? indent, bool ensureAscii, (string Item, string Key)? separators, bool sortKeys, bool undefinedAsNull = true)
    {
        var builder = new StringBuilder();
        (string item, string key) = separators ?? (indent is > 0 ? (",", ": ") : (", ", ": "));
        WriteJson(builder, value, indent is > 0 ? new string(' ', indent.Value) : null, 0, ensureAscii, item, key, sortKeys, undefinedAsNull);
        return builder.ToString();
    }

    private static void WriteJson(StringBuilder builder, object? value, string? indent, int depth, bool ensureAscii, string item, string key, bool sortKeys, bool undefinedAsNull)
    {
        // A list may hold itself (l.append(l)) or nest without end: bound the depth, the text and the stack.
        int maxDepth = TemplateBudget.Current?.Limits.MaxNestingDepth ?? TemplateLimits.Default.MaxNestingDepth;
        if (depth > maxDepth)
        {
            throw TemplateBudget.NestingExceeded(maxDepth);
        }

        TemplateBudget.EnsureStack(depth);
        TemplateBudget.CheckLength(builder.Length);
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case TemplateUndefined:
                builder.Append(undefinedAsNull ? "null" : "undefined");
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case long l:
                builder.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                builder.Append(double.IsFinite(d) ? FormatNumber(d) : "null");
                break;
            case string s:
                TemplateBudget.CheckLength((long)builder.Length + s.Length);
                WriteJsonString(builder, s, ensureAscii);
                break;
            case List<object?> list:
                WriteContainer(builder, '[', ']', list.Count, indent, depth, item, i => WriteJson(builder, list[i], indent, depth + 1, ensureAscii, item, key, sortKeys, undefinedAsNull));
                break;
            case OrderedDictionary<string, object?> or TemplateNamespace:
                OrderedDictionary<string, object?> map = value as OrderedDictionary<string, object?> ?? ((TemplateNamespace)value).Attributes;
                List<KeyValuePair<string, object?>> entries = [.. map];
                if (sortKeys)
                {
                    entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                }

                WriteContainer(builder, '{', '}', entries.Count, indent, depth, item, i =>
                {
                    WriteJsonString(builder, entries[i].Key, ensureAscii);
                    builder.Append(key);
                    WriteJson(builder, entries[i].Value, indent, depth + 1, ensureAscii, item, key, sortKeys, undefinedAsNull);
                });
                break;
            default:
                throw new InvalidOperationException($"cannot convert {TypeName(value)} to JSON");
        }
    }

    private static void WriteContainer(StringBuilder builder, char open, char close, int count, string? indent, int depth, string item, Action<int> writeItem)
    {
        builder.Append(open);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                builder.Append(item);
            }

            if (indent is not null)
            {
                builder.Append('\n');
                for (int d = 0; d <= depth; d++)
                {
                    builder.Append(indent);
                }
            }

            writeItem(i);
        }

        if (indent is not null && count > 0)
        {
            builder.Append('\n');
            for (int d = 0; d < depth; d++)
            {
                builder.Append(indent);
            }
        }

        builder.Append(close);
    }

    private static void WriteJsonString(StringBuilder builder, string text, bool ensureAscii)
    {
        builder.Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    bool lone = char.IsHighSurrogate(c) ? i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])
                        : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(text[i - 1]));
                    if (c < 0x20 || (ensureAscii && c >= 0x7F) || lone)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }

    private static string FormatNumber(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
    }

    private static OrderedDictionary<string, object?> ToDictionary(IEnumerable<(string Key, object? Value)> entries)
    {
        var dictionary = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach ((string key, object? value) in entries)
        {
            dictionary[key] = From(value);
        }

        return dictionary;
    }
}
