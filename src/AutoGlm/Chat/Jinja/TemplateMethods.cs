using System.Globalization;

namespace AutoGlm.Chat.Jinja;

/// <summary>Attribute access, indexing, slicing, membership and the Python methods of strings, dicts and lists.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateMethods
{
    public static object? GetAttribute(object? target, string name, string what)
    {
        switch (target)
        {
            case OrderedDictionary<string, object?> dictionary:
                if (dictionary.TryGetValue(name, out object? value))
                {
                    return value;
                }

                return name is "get" or "items" or "keys" or "values" ? Bind(target, name, what) : new TemplateUndefined(name);
            case TemplateNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? attribute) ? attribute : new TemplateUndefined(name);
            case null or TemplateUndefined:
                throw new InvalidOperationException($"cannot read '{name}' of {what}, which is {TemplateValue.TypeName(target)}");
            case List<object?> list when name == "length":
                return (long)list.Count;
            default:
                return Bind(target, name, what);
        }
    }

    public static object? GetItem(object? target, object? index, string what)
    {
        switch (target, index)
        {
            case (OrderedDictionary<string, object?> dictionary, _):
                string key = index as string ?? TemplateValue.ToOutput(index);
                return dictionary.TryGetValue(key, out object? value) ? value : new TemplateUndefined(key);
            case (TemplateNamespace ns, string name):
                return GetAttribute(ns, name, what);
            case (List<object?> list, long i):
                long at = i < 0 ? list.Count + i : i;
                return at >= 0 && at < list.Count ? list[(int)at] : new TemplateUndefined($"[{i}]");
            case (string text, long i):
                long position = i < 0 ? text.Length + i : i;
                return position >= 0 && position < text.Length ? text[(int)position].ToString() : new TemplateUndefined($"[{i}]");
            case (null or TemplateUndefined, _):
                throw new InvalidOperationException($"cannot index {what}, which is {TemplateValue.TypeName(target)}");
            default:
                throw new InvalidOperationException($"cannot index {TemplateValue.TypeName(target)} with {TemplateValue.TypeName(index)}");
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        int length = target switch
        {
            List<object?> list => list.Count,
            string text => text.Length,
            _ => throw new InvalidOperationException($"cannot slice {TemplateValue.TypeName(target)}"),
        };
        long stride = step is long s ? s : 1;
        if (stride == 0)
        {
            throw new InvalidOperationException("slice step cannot be zero");
        }

        var indices = new List<int>();
        if (stride > 0)
        {
            long from = Clamp(start, length, 0, stride);
            long to = Clamp(stop, length, length, stride);
            for (long i = from; i < to; i += stride)
            {
                indices.Add((int)i);
            }
        }
        else
        {
            long from = Clamp(start, length, length - 1, stride);
            long to = Clamp(stop, length, -1, stride);
            for (long i = from; i > to; i += stride)
            {
                indices.Add((int)i);
            }
        }

        return target is List<object?> items
            ? indices.Select(i => items[i]).ToList()
            : string.Concat(indices.Select(i => ((string)target)[i]));
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        List<object?> list => list.Any(x => TemplateValue.AreEqual(x, item)),
        string text when item is string part => text.Contains(part, StringComparison.Ordinal),
        OrderedDictionary<string, object?> dictionary when item is string key => dictionary.ContainsKey(key),
        TemplateNamespace ns when item is string key => ns.Attributes.ContainsKey(key),
        null or TemplateUndefined => false,
        _ => throw new InvalidOperationException($"cannot test membership of {TemplateValue.TypeName(item)} in {TemplateValue.TypeName(container)}"),
    };

    public static object? Invoke(object? target, string name, IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywords, string what)
    {
        object? Argument(int index, string keyword, object? fallback) =>
            index < arguments.Count ? arguments[index] : keywords.TryGetValue(keyword, out object? value) ? value : fallback;

        switch (target)
        {
            case string text:
                return name switch
                {
                    "upper" => text.ToUpperInvariant(),
                    "lower" => text.ToLowerInvariant(),
                    "strip" => Argument(0, "chars", null) is string chars ? text.Trim(chars.ToCharArray()) : text.Trim(),
                    "lstrip" => Argument(0, "chars", null) is string chars ? text.TrimStart(chars.ToCharArray()) : text.TrimStart(),
                    "rstrip" => Argument(0, "chars", null) is string chars ? text.TrimEnd(chars.ToCharArray()) : text.TrimEnd(),
                    "startswith" => Affixes(Argument(0, "prefix", null)).Any(p => text.StartsWith(p, StringComparison.Ordinal)),
                    "endswith" => Affixes(Argument(0, "suffix", null)).Any(p => text.EndsWith(p, StringComparison.Ordinal)),
                    "split" => Split(text, Argument(0, "sep", null) as string, Argument(1, "maxsplit", -1L) is long max ? max : -1),
                    "splitlines" => text.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList(),
                    "replace" => TemplateFilters.Replace(text, Argument(0, "old", null), Argument(1, "new", null), Argument(2, "count", -1L)),
                    "title" => TemplateFilters.Title(text),
                    "capitalize" => TemplateFilters.Capitalize(text),
                    "find" => (long)text.IndexOf(Argument(0, "sub", "") as string ?? "", StringComparison.Ordinal),
                    "count" => (long)CountOccurrences(text, Argument(0, "sub", "") as string ?? ""),
                    "join" => TemplateFilters.Join(text, AsList(Argument(0, "iterable", null))),
                    "isdigit" => text.Length > 0 && text.All(char.IsDigit),
                    "isspace" => text.Length > 0 && text.All(char.IsWhiteSpace),
                    _ => throw Unknown(target, name, what),
                };
            case OrderedDictionary<string, object?> dictionary:
                return name switch
                {
                    "get" => dictionary.TryGetValue(Argument(0, "key", null) as string ?? "", out object? value) ? value : Argument(1, "default", null),
                    "items" => dictionary.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                    "keys" => dictionary.Keys.Select(k => (object?)k).ToList(),
                    "values" => dictionary.Values.ToList(),
                    _ => throw Unknown(target, name, what),
                };
            case List<object?> list:
                switch (name)
                {
                    case "append":
                        TemplateBudget.CheckItems(list.Count + 1L);
                        list.Add(Argument(0, "item", null));
                        return null;
                    case "index":
                        return (long)list.FindIndex(x => TemplateValue.AreEqual(x, Argument(0, "item", null)));
                    case "count":
                        return (long)list.Count(x => TemplateValue.AreEqual(x, Argument(0, "item", null)));
                    default:
                        throw Unknown(target, name, what);
                }

            default:
                throw Unknown(target, name, what);
        }
    }

    public static List<object?> AsList(object? value) => value switch
    {
        List<object?> list => list,
        OrderedDictionary<string, object?> dictionary => [.. dictionary.Keys],
        string text => [.. text.Select(c => (object?)c.ToString())],
        null or TemplateUndefined => [],
        _ => throw new InvalidOperationException($"{TemplateValue.TypeName(value)} is not iterable"),
    };

    private static TemplateCallable Bind(object? target, string name, string what) =>
        (arguments, keywords) => Invoke(target, name, arguments, keywords, what);

    private static InvalidOperationException Unknown(object? target, string name, string what) =>
        new($"{what} is {TemplateValue.TypeName(target)}, which has no attribute or method '{name}'");

    private static IEnumerable<string> Affixes(object? value) => value switch
    {
        string s => [s],
        List<object?> list => list.OfType<string>(),
        _ => throw new InvalidOperationException($"expected a string or a list of strings but got {TemplateValue.TypeName(value)}"),
    };

    private static List<object?> Split(string text, string? separator, long maxSplit)
    {
        if (separator is null)
        {
            string[] words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (maxSplit < 0 || words.Length <= maxSplit + 1)
            {
                return [.. words];
            }

            // Python keeps the rest of the string, leading white space removed, as the last item.
            var result = new List<object?>();
            int position = 0;
            for (int i = 0; i < maxSplit; i++)
            {
                while (char.IsWhiteSpace(text[position]))
                {
                    position++;
                }

                int end = position;
                while (!char.IsWhiteSpace(text[end]))
                {
                    end++;
                }

                result.Add(text[position..end]);
                position = end;
            }

            result.Add(text[position..].TrimStart());
            return result;
        }

        if (separator.Length == 0)
        {
            throw new InvalidOperationException("empty separator");
        }

        return [.. text.Split(separator, maxSplit < 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, maxSplit + 1))];
    }

    public static int CountOccurrences(string text, string part)
    {
        if (part.Length == 0)
        {
            return text.Length + 1;
        }

        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static long Clamp(object? value, int length, long fallback, long stride)
    {
        if (value is null or TemplateUndefined)
        {
            return fallback;
        }

        long index = value is long l ? l : throw new InvalidOperationException($"slice indices must be integers, not {TemplateValue.TypeName(value)}");
        if (index < 0)
        {
            index += length;
        }

        return stride > 0 ? Math.Clamp(index, 0, length) : Math.Clamp(index, -1, length - 1);
    }
}
