using System.Text.Json;

namespace AutoGlm.Tokenization;

/// <summary>Reads the JSON files of a tokenizer, turning every failure into a <see cref="TokenizerException"/> that names the file and position.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class JsonFile
{
    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    public static JsonDocument Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"Cannot read the tokenizer file '{path}': {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses <paramref name="utf8"/>; <paramref name="source"/> names it in error messages.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string source)
    {
        int bad = JsonText.FindInvalidUtf8(utf8.Span);
        if (bad >= 0)
        {
            throw new TokenizerException($"The tokenizer file '{source}' is not valid UTF-8 (the first bad byte is at offset {bad}); it is damaged or was saved in another encoding. Download it again or save it as UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            throw new TokenizerException(
                $"The tokenizer file '{source}' is not valid JSON at line {line}, byte {column} of the line; it may be truncated or damaged. Download it again. ({e.Message})",
                e);
        }

        if (JsonText.FindInvalidString(document.RootElement) is { } invalid)
        {
            document.Dispose();
            throw new TokenizerException($"The tokenizer file '{source}' is invalid at '{invalid.Path}': the string is not valid text ({invalid.Problem}); JSON strings must not hold lone surrogate escapes such as \\ud800. Download the file again.");
        }

        return document;
    }

    /// <summary>A property of an object, or null when absent or JSON null.</summary>
    public static JsonElement? Property(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }

        return null;
    }

    /// <summary>A boolean property, or <paramref name="fallback"/> when absent.</summary>
    public static bool Boolean(JsonElement element, string name, bool fallback, string source, string path)
    {
        JsonElement? value = Property(element, name);
        return value switch
        {
            null => fallback,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => throw Invalid(source, $"{path}.{name}", "must be true or false"),
        };
    }

    /// <summary>A string property, or null when absent.</summary>
    public static string? String(JsonElement element, string name, string source, string path)
    {
        JsonElement? value = Property(element, name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            _ => throw Invalid(source, $"{path}.{name}", "must be a string"),
        };
    }

    /// <summary>The exception for a value of the wrong shape at <paramref name="path"/>.</summary>
    public static TokenizerException Invalid(string source, string path, string problem) =>
        new($"The tokenizer file '{source}' is invalid at '{path}': it {problem}. Check that the file is complete and comes from a supported tokenizer.");
}
