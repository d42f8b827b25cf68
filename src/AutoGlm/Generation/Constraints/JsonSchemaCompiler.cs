using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AutoGlm.Generation.Constraints;

/// <summary>
/// Compiles a JSON schema into a <see cref="Grammar"/> whose every complete output validates against it.
/// Supported: <c>type</c> (one or a list), <c>properties</c>, <c>required</c>, <c>additionalProperties</c>
/// (true or false), <c>enum</c>, <c>const</c>, <c>items</c>, <c>minItems</c>, <c>maxItems</c>, <c>minLength</c>,
/// <c>maxLength</c>, <c>anyOf</c>, <c>oneOf</c>, <c>nullable</c>, <c>$ref</c> into <c>$defs</c> / <c>definitions</c>
/// (no cycles), and the annotations (<c>title</c>, <c>description</c>, ...). Anything else is rejected with a
/// <see cref="GrammarException"/> that names the keyword and its path.
/// </summary>
/// <remarks>
/// The grammar is a subset of what the schema allows: properties come in declaration order; a string with a
/// length bound holds printable ASCII only; alternatives of <c>anyOf</c> / <c>oneOf</c> must differ in their first
/// character (different JSON types), which also makes <c>oneOf</c> exclusive. Not thread-safe; one per compilation.
/// </remarks>
internal sealed class JsonSchemaCompiler
{
    private const int MaxProperties = 64;

    private static readonly HashSet<string> s_annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "$schema", "$id", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions",
    };

    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "enum", "const", "items", "minItems", "maxItems",
        "minLength", "maxLength", "anyOf", "oneOf", "nullable", "$ref",
    };

    private readonly Grammar _grammar = new();
    private readonly JsonElement _root;
    private readonly Dictionary<string, int> _references = new(StringComparer.Ordinal);
    private readonly List<string> _resolving = [];

    private JsonSchemaCompiler(JsonElement root)
    {
        _root = root;
    }

    /// <summary>Compiles <paramref name="schema"/>.</summary>
    /// <exception cref="GrammarException">The schema uses an unsupported keyword, is cyclic, or allows no value.</exception>
    public static Grammar Compile(JsonElement schema)
    {
        var compiler = new JsonSchemaCompiler(schema);
        compiler._grammar.Root = compiler.CompileSchema(schema, "#");
        return compiler._grammar;
    }

    /// <summary>Compiles a schema into a node of <paramref name="grammar"/> (for tool arguments, several schemas in one grammar).</summary>
    public static int CompileInto(Grammar grammar, JsonElement schema, string path)
    {
        var compiler = new JsonSchemaCompiler(schema, grammar);
        return compiler.CompileSchema(schema, path);
    }

    private JsonSchemaCompiler(JsonElement root, Grammar grammar)
    {
        _root = root;
        _grammar = grammar;
    }

    private static GrammarException Error(string keyword, string path, string problem) =>
        new($"The JSON schema's '{keyword}' at {path} {problem}", keyword, path);

    private int CompileSchema(JsonElement schema, string path)
    {
        switch (schema.ValueKind)
        {
            case JsonValueKind.True:
                return Grammar.AnyValue;
            case JsonValueKind.False:
                throw new GrammarException($"The JSON schema at {path} is 'false', which no value satisfies; remove it or give a schema that allows a value.", "false", path);
            case JsonValueKind.Object:
                break;
            default:
                throw new GrammarException($"The JSON schema at {path} is a {schema.ValueKind}, not an object or a boolean; give a schema object such as {{\"type\":\"string\"}}.", null, path);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in schema.EnumerateObject())
        {
            if (!s_keywords.Contains(property.Name) && !s_annotations.Contains(property.Name))
            {
                throw Error(property.Name, path, "is not supported by AutoGlm's constrained decoding, which cannot guarantee it; remove it, or validate it yourself after generation. Supported: type, properties, required, additionalProperties (true/false), enum, const, items, minItems, maxItems, minLength, maxLength, anyOf, oneOf, nullable, $ref/$defs.");
            }

            if (s_keywords.Contains(property.Name))
            {
                seen.Add(property.Name);
            }
        }

        bool nullable = false;
        if (schema.TryGetProperty("nullable", out JsonElement nullableValue))
        {
            if (nullableValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw Error("nullable", path, "must be true or false.");
            }

            nullable = nullableValue.ValueKind == JsonValueKind.True;
            seen.Remove("nullable");
        }

        int node;
        if (seen.Contains("$ref"))
        {
            RejectSiblings(seen, "$ref", path);
            node = CompileReference(schema.GetProperty("$ref"), path);
        }
        else if (seen.Contains("anyOf") || seen.Contains("oneOf"))
        {
            string keyword = seen.Contains("anyOf") ? "anyOf" : "oneOf";
            RejectSiblings(seen, keyword, path);
            JsonElement list = schema.GetProperty(keyword);
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                throw Error(keyword, path, "must be a non-empty array of schemas.");
            }

            var alternatives = new List<int>();
            int i = 0;
            foreach (JsonElement alternative in list.EnumerateArray())
            {
                alternatives.Add(CompileSchema(alternative, $"{path}/{keyword}/{i++}"));
            }

            node = Union(alternatives, keyword, path);
        }
        else if (seen.Contains("enum") || seen.Contains("const"))
        {
            node = CompileEnum(schema, seen, path);
        }
        else
        {
            List<string> types = TypesOf(schema, seen, path);
            var alternatives = new List<int>();
            foreach (string type in types)
            {
                alternatives.Add(CompileType(type, schema, path));
            }

            node = alternatives.Count == 1 ? alternatives[0] : Union(alternatives, "type", path);
        }

        if (nullable && node != Grammar.Null)
        {
            var set = new bool[256];
            _grammar.AddFirstBytes(node, set);
            if (!set['n'])
            {
                node = Union([node, Grammar.Null], "nullable", path);
            }
        }

        return node;
    }

    private static void RejectSiblings(HashSet<string> seen, string keyword, string path)
    {
        foreach (string other in seen)
        {
            if (other != keyword)
            {
                throw Error(other, path, $"sits beside '{keyword}', which AutoGlm does not combine with other keywords; move it into the referenced or alternative schemas.");
            }
        }
    }

    private int CompileReference(JsonElement reference, string path)
    {
        if (reference.ValueKind != JsonValueKind.String || reference.GetString() is not { } target || !target.StartsWith('#'))
        {
            throw Error("$ref", path, $"is {reference.GetRawText()}; only references inside the schema (\"#/$defs/Name\") are supported.");
        }

        if (_references.TryGetValue(target, out int known))
        {
            return known;
        }

        if (_resolving.Contains(target))
        {
            throw Error("$ref", path, $"refers to '{target}', which refers back to itself ({string.Join(" -> ", _resolving)} -> {target}); recursive schemas are not supported, so bound the nesting explicitly.");
        }

        JsonElement resolved = _root;
        foreach (string raw in target[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (resolved.ValueKind == JsonValueKind.Object && resolved.TryGetProperty(segment, out JsonElement next))
            {
                resolved = next;
            }
            else if (resolved.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < resolved.GetArrayLength())
            {
                resolved = resolved[index];
            }
            else
            {
                throw Error("$ref", path, $"refers to '{target}', which does not exist in the schema.");
            }
        }

        _resolving.Add(target);
        int node = CompileSchema(resolved, target);
        _resolving.RemoveAt(_resolving.Count - 1);
        _references[target] = node;
        return node;
    }

    private int CompileEnum(JsonElement schema, HashSet<string> seen, string path)
    {
        string keyword = seen.Contains("enum") ? "enum" : "const";
        foreach (string other in seen)
        {
            if (other is not ("enum" or "const" or "type"))
            {
                throw Error(other, path, $"sits beside '{keyword}', which AutoGlm does not combine with other keywords; list only allowed values.");
            }
        }

        List<string>? types = seen.Contains("type") ? TypesOf(schema, seen, path) : null;
        var values = new List<JsonElement>();
        if (keyword == "const")
        {
            values.Add(schema.GetProperty("const"));
        }
        else
        {
            JsonElement list = schema.GetProperty("enum");
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw Error("enum", path, "must be an array of values.");
            }

            values.AddRange(list.EnumerateArray());
        }

        var entries = new List<byte[]>();
        foreach (JsonElement value in values)
        {
            if (types is null || types.Contains(TypeOf(value)) || (types.Contains("number") && TypeOf(value) == "integer"))
            {
                entries.Add(Serialize(value));
            }
        }

        if (entries.Count == 0)
        {
            throw Error(keyword, path, values.Count == 0
                ? "lists no value, so nothing can satisfy it; list at least one allowed value."
                : "lists no value of the schema's 'type', so nothing can satisfy it; fix the values or the type.");
        }

        return _grammar.AddLiterals(entries, null);
    }

    private static string TypeOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => value.TryGetInt64(out _) || (value.TryGetDouble(out double d) && Math.Floor(d) == d) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static byte[] Serialize(JsonElement value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            value.WriteTo(writer);
        }

        return stream.ToArray();
    }

    private static byte[] SerializeString(string value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(value);
        }

        return stream.ToArray();
    }

    private static List<string> TypesOf(JsonElement schema, HashSet<string> seen, string path)
    {
        var types = new List<string>();
        if (schema.TryGetProperty("type", out JsonElement type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                types.Add(type.GetString()!);
            }
            else if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0)
            {
                foreach (JsonElement item in type.EnumerateArray())
                {
                    types.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Error("type", path, $"lists {item.GetRawText()}, which is not a type name."));
                }
            }
            else
            {
                throw Error("type", path, $"is {type.GetRawText()}; give a type name or a non-empty list of them.");
            }

            foreach (string name in types)
            {
                if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
                {
                    throw Error("type", path, $"names '{name}', which is not a JSON schema type (object, array, string, number, integer, boolean, null).");
                }
            }

            if (types.Contains("number") && types.Contains("integer"))
            {
                types.Remove("integer");
            }

            return types;
        }

        // No type: infer it from the keywords, or allow any value.
        if (seen.Contains("properties") || seen.Contains("required") || seen.Contains("additionalProperties"))
        {
            types.Add("object");
        }
        else if (seen.Contains("items") || seen.Contains("minItems") || seen.Contains("maxItems"))
        {
            types.Add("array");
        }
        else if (seen.Contains("minLength") || seen.Contains("maxLength"))
        {
            types.Add("string");
        }
        else
        {
            types.Add("any");
        }

        return types;
    }

    private int CompileType(string type, JsonElement schema, string path)
    {
        switch (type)
        {
            case "object":
                return CompileObject(schema, path);
            case "array":
            {
                int item = schema.TryGetProperty("items", out JsonElement items) ? CompileSchema(items, path + "/items") : Grammar.AnyValue;
                int min = Count(schema, "minItems", path) ?? 0;
                int max = Count(schema, "maxItems", path) ?? -1;
                if (max >= 0 && min > max)
                {
                    throw Error("minItems", path, $"is {min}, more than maxItems {max}, so no array satisfies it.");
                }

                if (item == Grammar.AnyValue && min == 0 && max < 0)
                {
                    return Grammar.AnyArray;
                }

                int itemBytes = _grammar[item].MinBytes;
                return _grammar.Add(new GrammarNode(GrammarNodeKind.Array)
                {
                    Item = item,
                    MinCount = min,
                    MaxCount = max,
                    MinBytes = 1 + (min == 0 ? 1 : (min * itemBytes) + min),
                });
            }

            case "string":
            {
                int? min = Count(schema, "minLength", path);
                int? max = Count(schema, "maxLength", path);
                if (min is null && max is null)
                {
                    return Grammar.AnyString;
                }

                if (max is int m && min > m)
                {
                    throw Error("minLength", path, $"is {min}, more than maxLength {m}, so no string satisfies it.");
                }

                return _grammar.Add(new GrammarNode(GrammarNodeKind.String)
                {
                    AsciiOnly = true,
                    MinCount = min ?? 0,
                    MaxCount = max ?? -1,
                    MinBytes = 2 + (min ?? 0),
                });
            }

            case "number":
                return Grammar.AnyNumber;
            case "integer":
                return _grammar.Add(new GrammarNode(GrammarNodeKind.Integer) { MinBytes = 1 });
            case "boolean":
                return _grammar.AddLiterals([Encoding.ASCII.GetBytes("false"), Encoding.ASCII.GetBytes("true")], null);
            case "null":
                return Grammar.Null;
            default:
                return Grammar.AnyValue;
        }
    }

    private int CompileObject(JsonElement schema, string path)
    {
        bool closed = false;
        if (schema.TryGetProperty("additionalProperties", out JsonElement additional))
        {
            if (additional.ValueKind == JsonValueKind.False)
            {
                closed = true;
            }
            else if (additional.ValueKind != JsonValueKind.True)
            {
                throw Error("additionalProperties", path, "is a schema; only true or false is supported. Declare the properties in 'properties' instead.");
            }
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out JsonElement requiredList))
        {
            if (requiredList.ValueKind != JsonValueKind.Array)
            {
                throw Error("required", path, "must be an array of property names.");
            }

            foreach (JsonElement name in requiredList.EnumerateArray())
            {
                required.Add(name.ValueKind == JsonValueKind.String ? name.GetString()! : throw Error("required", path, $"lists {name.GetRawText()}, which is not a property name."));
            }
        }

        bool hasProperties = schema.TryGetProperty("properties", out JsonElement properties);
        if (!hasProperties && !closed)
        {
            if (required.Count > 0)
            {
                throw Error("required", path, "lists properties but the schema declares none in 'properties'; declare them so AutoGlm knows their schemas.");
            }

            return Grammar.AnyObject;
        }

        var names = new List<string>();
        var keys = new List<byte[]>();
        var values = new List<int>();
        if (hasProperties)
        {
            if (properties.ValueKind != JsonValueKind.Object)
            {
                throw Error("properties", path, "must be an object mapping names to schemas.");
            }

            foreach (JsonProperty property in properties.EnumerateObject())
            {
                if (names.Count == MaxProperties)
                {
                    throw Error("properties", path, $"declares more than {MaxProperties} properties, more than AutoGlm's constrained decoding supports in one object; nest them.");
                }

                names.Add(property.Name);
                keys.Add(SerializeString(property.Name));
                values.Add(CompileSchema(property.Value, $"{path}/properties/{property.Name}"));
            }
        }

        foreach (string name in required)
        {
            if (!names.Contains(name))
            {
                throw Error("required", path, $"lists '{name}', which is not declared in 'properties'; declare it with its schema.");
            }
        }

        int count = names.Count;
        var node = new GrammarNode(GrammarNodeKind.Object)
        {
            Keys = [.. keys],
            Values = [.. values],
            Required = [.. names.Select(required.Contains)],
            CandidateEnd = new int[count + 1],
            RequiredCost = new int[count + 1],
        };
        for (int i = count - 1; i >= 0; i--)
        {
            node.RequiredCost[i] = node.RequiredCost[i + 1] + (node.Required[i] ? 1 + keys[i].Length + 1 + _grammar[values[i]].MinBytes : 0);
        }

        // The properties that may come next run up to and including the first required one.
        for (int i = 0; i <= count; i++)
        {
            int end = count;
            for (int j = i; j < count; j++)
            {
                if (node.Required[j])
                {
                    end = j + 1;
                    break;
                }
            }

            node.CandidateEnd[i] = end;
        }

        node.MinBytes = 1 + (node.RequiredCost[0] == 0 ? 1 : node.RequiredCost[0]);
        return _grammar.Add(node);
    }

    private static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int count) || count < 0)
        {
            throw Error(keyword, path, $"is {value.GetRawText()}; it must be a non-negative integer.");
        }

        return count;
    }

    private int Union(List<int> alternatives, string keyword, string path)
    {
        var byFirstByte = new int[256];
        Array.Fill(byFirstByte, -1);
        for (int i = 0; i < alternatives.Count; i++)
        {
            var set = new bool[256];
            _grammar.AddFirstBytes(alternatives[i], set);
            for (int b = 0; b < 256; b++)
            {
                if (!set[b])
                {
                    continue;
                }

                if (byFirstByte[b] >= 0 && byFirstByte[b] != alternatives[i])
                {
                    int other = alternatives.IndexOf(byFirstByte[b]);
                    throw Error(keyword, path, $"has alternatives {other} and {i} that can both start with '{(char)b}'; AutoGlm needs alternatives of different JSON types (object, array, string, number, boolean, null) so the first character decides. Merge them into one schema.");
                }

                byFirstByte[b] = alternatives[i];
            }
        }

        return _grammar.Add(new GrammarNode(GrammarNodeKind.Union)
        {
            Alternatives = [.. alternatives],
            ByFirstByte = byFirstByte,
            MinBytes = alternatives.Min(a => _grammar[a].MinBytes),
        });
    }
}
