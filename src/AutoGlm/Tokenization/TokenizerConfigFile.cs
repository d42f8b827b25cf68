using System.Text.Json;

namespace AutoGlm.Tokenization;

/// <summary>What AutoGlm reads from a <c>tokenizer_config.json</c>: added tokens, named special tokens and chat templates.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class TokenizerConfigFile
{
    /// <summary>The name a chat template given as a plain string is stored under.</summary>
    public const string DefaultTemplateName = "default";

    private TokenizerConfigFile(string source, IReadOnlyList<AddedToken> addedTokens, IReadOnlyDictionary<string, string> chatTemplates, IReadOnlyDictionary<string, string> namedTokens)
    {
        Source = source;
        AddedTokens = addedTokens;
        ChatTemplates = chatTemplates;
        NamedTokens = namedTokens;
    }

    /// <summary>The file (for messages).</summary>
    public string Source { get; }

    /// <summary>The entries of <c>added_tokens_decoder</c>, in file order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Chat templates by name; a single string template is named <see cref="DefaultTemplateName"/>.</summary>
    public IReadOnlyDictionary<string, string> ChatTemplates { get; }

    /// <summary>Named special tokens (<c>bos_token</c>, <c>eos_token</c>, <c>pad_token</c>, <c>unk_token</c>) by property name.</summary>
    public IReadOnlyDictionary<string, string> NamedTokens { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static TokenizerConfigFile Load(string path)
    {
        using JsonDocument document = JsonFile.Load(path);
        return Read(document.RootElement, path);
    }

    /// <summary>Parses the UTF-8 JSON in <paramref name="utf8"/>; <paramref name="source"/> names it in messages.</summary>
    public static TokenizerConfigFile Parse(ReadOnlyMemory<byte> utf8, string source)
    {
        using JsonDocument document = JsonFile.Parse(utf8, source);
        return Read(document.RootElement, source);
    }

    private static TokenizerConfigFile Read(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw JsonFile.Invalid(source, "$", "must be a JSON object");
        }

        var added = new List<AddedToken>();
        if (JsonFile.Property(root, "added_tokens_decoder") is { } decoder)
        {
            if (decoder.ValueKind != JsonValueKind.Object)
            {
                throw JsonFile.Invalid(source, "added_tokens_decoder", "must be an object mapping ids to tokens");
            }

            foreach (JsonProperty entry in decoder.EnumerateObject())
            {
                string path = $"added_tokens_decoder.{entry.Name}";
                if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                {
                    throw JsonFile.Invalid(source, path, "has a key that is not a token id");
                }

                added.Add(TokenizerJsonReader.ReadAddedToken(entry.Value, id, source, path));
            }
        }

        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        if (JsonFile.Property(root, "chat_template") is { } template)
        {
            if (template.ValueKind == JsonValueKind.String)
            {
                templates[DefaultTemplateName] = template.GetString()!;
            }
            else if (template.ValueKind == JsonValueKind.Array)
            {
                int index = 0;
                foreach (JsonElement item in template.EnumerateArray())
                {
                    string path = $"chat_template[{index++}]";
                    string name = JsonFile.String(item, "name", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'name'");
                    templates[name] = JsonFile.String(item, "template", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'template'");
                }
            }
            else
            {
                throw JsonFile.Invalid(source, "chat_template", "must be a string or a list of {name, template} objects");
            }
        }

        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in (string[])["bos_token", "eos_token", "pad_token", "unk_token"])
        {
            switch (JsonFile.Property(root, name))
            {
                case { ValueKind: JsonValueKind.String } text:
                    named[name] = text.GetString()!;
                    break;
                case { ValueKind: JsonValueKind.Object } token when JsonFile.String(token, "content", source, name) is { } content:
                    named[name] = content;
                    break;
                default:
                    break;
            }
        }

        return new TokenizerConfigFile(source, added, templates, named);
    }
}
