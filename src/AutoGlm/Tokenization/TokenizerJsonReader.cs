using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AutoGlm.Tokenization;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a Hugging Face <c>tokenizer.json</c> holding a byte-level BPE model.
/// Components it cannot reproduce exactly fail here, naming the component and the file.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TokenizerJsonReader
{
    /// <summary>The longest split pattern accepted.</summary>
    private const int MaxPatternLength = 4096;

    /// <summary>Reads a <c>tokenizer.json</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="handWrittenPatterns">Whether known split patterns run on the hand-written splitter (false: always .NET regex; for benchmarks).</param>
    /// <param name="cachePieces">Whether BPE results are cached per pre-token (false only for benchmarks).</param>
    public static Tokenizer Load(string path, bool handWrittenPatterns = true, bool cachePieces = true)
    {
        using JsonDocument document = JsonFile.Load(path);
        return Read(document.RootElement, path, new ReadOptions(handWrittenPatterns, cachePieces));
    }

    /// <summary>Parses UTF-8 <c>tokenizer.json</c> content; <paramref name="source"/> names it in messages.</summary>
    public static Tokenizer Parse(ReadOnlyMemory<byte> utf8, string source)
    {
        using JsonDocument document = JsonFile.Parse(utf8, source);
        return Read(document.RootElement, source, new ReadOptions(true, true));
    }

    /// <summary>Reads one added-token object (<c>added_tokens[i]</c> or an <c>added_tokens_decoder</c> value).</summary>
    public static AddedToken ReadAddedToken(JsonElement element, int id, string source, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw JsonFile.Invalid(source, path, "must be an object with 'content'");
        }

        string content = JsonFile.String(element, "content", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'content'");
        bool special = JsonFile.Boolean(element, "special", false, source, path);
        return new AddedToken(
            id,
            content,
            special,
            JsonFile.Boolean(element, "lstrip", false, source, path),
            JsonFile.Boolean(element, "rstrip", false, source, path),
            JsonFile.Boolean(element, "single_word", false, source, path),
            JsonFile.Boolean(element, "normalized", !special, source, path));
    }

    private static Tokenizer Read(JsonElement root, string source, ReadOptions options)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw JsonFile.Invalid(source, "$", "must be a JSON object");
        }

        JsonElement model = JsonFile.Property(root, "model") ?? throw JsonFile.Invalid(source, "model", "is missing");
        string modelType = JsonFile.String(model, "type", source, "model") ?? (JsonFile.Property(model, "merges") is null ? "(none)" : "BPE");
        if (modelType != "BPE")
        {
            throw Unsupported(source, "model.type", modelType, "BPE");
        }

        if (JsonFile.Property(model, "dropout") is { ValueKind: JsonValueKind.Number } dropout && dropout.GetDouble() > 0)
        {
            throw Unsupported(source, "model.dropout", dropout.GetRawText(), "null (no BPE dropout)");
        }

        foreach (string affix in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (JsonFile.String(model, affix, source, "model") is { Length: > 0 } value)
            {
                throw Unsupported(source, $"model.{affix}", value, "null");
            }
        }

        var added = new List<AddedToken>();
        if (JsonFile.Property(root, "added_tokens") is { } addedArray)
        {
            if (addedArray.ValueKind != JsonValueKind.Array)
            {
                throw JsonFile.Invalid(source, "added_tokens", "must be an array");
            }

            int index = 0;
            foreach (JsonElement item in addedArray.EnumerateArray())
            {
                string path = $"added_tokens[{index++}]";
                if (JsonFile.Property(item, "id") is not { ValueKind: JsonValueKind.Number } idElement || !idElement.TryGetInt32(out int id) || id < 0)
                {
                    throw JsonFile.Invalid(source, path, "has no valid 'id'");
                }

                added.Add(ReadAddedToken(item, id, source, path));
            }
        }

        TextNormalizer? normalizer = ReadNormalizer(JsonFile.Property(root, "normalizer"), source);
        var splitters = new List<TextSplitter>();
        bool byteLevel = false;
        bool addPrefixSpace = false;
        if (JsonFile.Property(root, "pre_tokenizer") is { } preTokenizer)
        {
            ReadPreTokenizer(preTokenizer, "pre_tokenizer", source, options, splitters, ref byteLevel, ref addPrefixSpace);
        }

        if (!byteLevel)
        {
            throw new TokenizerException(
                $"The tokenizer file '{source}' has no ByteLevel pre-tokenizer, so it is not a byte-level BPE tokenizer (it looks like a SentencePiece-style one). AutoGlm supports byte-level BPE tokenizer.json files (GLM-4, GLM-Edge, Llama-3, Qwen) and tiktoken tokenizer.model files.");
        }

        ReadDecoder(JsonFile.Property(root, "decoder"), "decoder", source);

        Dictionary<string, int> vocabulary = ReadVocabulary(model, source);
        Dictionary<long, MergeRule> merges = ReadMerges(model, vocabulary, source);
        bool ignoreMerges = JsonFile.Boolean(model, "ignore_merges", false, source, "model");
        var bpe = new BytePairModel(vocabulary, merges, ignoreMerges, options.CachePieces);
        return new Tokenizer(source, bpe, vocabulary, added, normalizer, [.. splitters], addPrefixSpace, addedTokensAreByteLevel: true);
    }

    private static TextNormalizer? ReadNormalizer(JsonElement? element, string source)
    {
        if (element is null)
        {
            return null;
        }

        var steps = new List<NormalizationForm?>();
        AddNormalizer(element.Value, "normalizer", source, steps);
        return steps.Count == 0 ? null : new TextNormalizer([.. steps]);
    }

    private static void AddNormalizer(JsonElement element, string path, string source, List<NormalizationForm?> steps)
    {
        string type = JsonFile.String(element, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        switch (type)
        {
            case "NFC": steps.Add(NormalizationForm.FormC); break;
            case "NFD": steps.Add(NormalizationForm.FormD); break;
            case "NFKC": steps.Add(NormalizationForm.FormKC); break;
            case "NFKD": steps.Add(NormalizationForm.FormKD); break;
            case "Lowercase": steps.Add(null); break;
            case "Sequence":
                int index = 0;
                foreach (JsonElement child in (JsonFile.Property(element, "normalizers") ?? throw JsonFile.Invalid(source, path, "has no 'normalizers'")).EnumerateArray())
                {
                    AddNormalizer(child, $"{path}.normalizers[{index++}]", source, steps);
                }

                break;
            default:
                throw Unsupported(source, $"{path}.type", type, "NFC, NFD, NFKC, NFKD, Lowercase, Sequence");
        }
    }

    private static void ReadPreTokenizer(JsonElement element, string path, string source, ReadOptions options, List<TextSplitter> splitters, ref bool byteLevel, ref bool addPrefixSpace)
    {
        string type = JsonFile.String(element, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        switch (type)
        {
            case "Sequence":
                int index = 0;
                foreach (JsonElement child in (JsonFile.Property(element, "pretokenizers") ?? throw JsonFile.Invalid(source, path, "has no 'pretokenizers'")).EnumerateArray())
                {
                    ReadPreTokenizer(child, $"{path}.pretokenizers[{index++}]", source, options, splitters, ref byteLevel, ref addPrefixSpace);
                }

                break;
            case "Split":
                splitters.Add(ReadSplit(element, path, source, options));
                break;
            case "Digits":
                splitters.Add(new DigitsSplitter(JsonFile.Boolean(element, "individual_digits", false, source, path)));
                break;
            case "ByteLevel":
                byteLevel = true;
                if (JsonFile.Boolean(element, "add_prefix_space", false, source, path))
                {
                    if (splitters.Count > 0)
                    {
                        throw Unsupported(source, $"{path}.add_prefix_space", "true after another pre-tokenizer", "false, or ByteLevel as the first pre-tokenizer");
                    }

                    addPrefixSpace = true;
                }

                if (JsonFile.Boolean(element, "use_regex", true, source, path))
                {
                    splitters.Add(CreateSplitter(Gpt2PatternSplitter.Pattern, removeMatches: false, invert: false, source, path, options));
                }

                break;
            default:
                throw Unsupported(source, $"{path}.type", type, "Split, ByteLevel, Digits, Sequence");
        }
    }

    private static TextSplitter ReadSplit(JsonElement element, string path, string source, ReadOptions options)
    {
        JsonElement pattern = JsonFile.Property(element, "pattern") ?? throw JsonFile.Invalid(source, path, "has no 'pattern'");
        string regex;
        if (JsonFile.String(pattern, "Regex", source, $"{path}.pattern") is { } text)
        {
            regex = text;
        }
        else if (JsonFile.String(pattern, "String", source, $"{path}.pattern") is { } literal)
        {
            regex = Regex.Escape(literal);
        }
        else
        {
            throw JsonFile.Invalid(source, $"{path}.pattern", "must hold 'Regex' or 'String'");
        }

        string behavior = JsonFile.String(element, "behavior", source, path) ?? "Isolated";
        bool invert = JsonFile.Boolean(element, "invert", false, source, path);
        bool remove = behavior switch
        {
            "Isolated" => false,
            "Removed" => true,
            _ => throw Unsupported(source, $"{path}.behavior", behavior, "Isolated, Removed"),
        };

        return CreateSplitter(regex, remove, invert, source, path, options);
    }

    private static TextSplitter CreateSplitter(string pattern, bool removeMatches, bool invert, string source, string path, ReadOptions options)
    {
        if (options.HandWrittenPatterns && !removeMatches && !invert)
        {
            if (Cl100kPatternSplitter.TryCreate(pattern) is { } known)
            {
                return known;
            }

            if (pattern == Gpt2PatternSplitter.Pattern)
            {
                return Gpt2PatternSplitter.Instance;
            }
        }

        if (pattern.Length > MaxPatternLength)
        {
            throw new TokenizerException($"The tokenizer file '{source}' has a pattern at '{path}.pattern' of {pattern.Length} characters; AutoGlm accepts at most {MaxPatternLength} (known tokenizers use a few hundred). The file is damaged or hostile; use the tokenizer.json published with the model.");
        }

        try
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, RegexSplitter.MatchTimeout);
            return new RegexSplitter(regex, removeMatches, invert, source, path);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerException($"The tokenizer file '{source}' has a pattern at '{path}.pattern' that .NET regular expressions cannot compile ({e.Message}); the pattern is: {pattern}", e);
        }
    }

    private static void ReadDecoder(JsonElement? element, string path, string source)
    {
        if (element is not { } decoder)
        {
            return;
        }

        string type = JsonFile.String(decoder, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        if (type == "Sequence")
        {
            int index = 0;
            foreach (JsonElement child in (JsonFile.Property(decoder, "decoders") ?? throw JsonFile.Invalid(source, path, "has no 'decoders'")).EnumerateArray())
            {
                ReadDecoder(child, $"{path}.decoders[{index++}]", source);
            }
        }
        else if (type != "ByteLevel")
        {
            throw Unsupported(source, $"{path}.type", type, "ByteLevel");
        }
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement model, string source)
    {
        JsonElement vocab = JsonFile.Property(model, "vocab") ?? throw JsonFile.Invalid(source, "model.vocab", "is missing");
        if (vocab.ValueKind != JsonValueKind.Object)
        {
            throw JsonFile.Invalid(source, "model.vocab", "must be an object mapping tokens to ids");
        }

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
            {
                throw JsonFile.Invalid(source, $"model.vocab[\"{entry.Name}\"]", "must be a non-negative integer id");
            }

            if (!vocabulary.TryAdd(entry.Name, id))
            {
                throw JsonFile.Invalid(source, $"model.vocab[\"{entry.Name}\"]", "lists the token twice");
            }
        }

        return vocabulary;
    }

    private static Dictionary<long, MergeRule> ReadMerges(JsonElement model, Dictionary<string, int> vocabulary, string source)
    {
        JsonElement merges = JsonFile.Property(model, "merges") ?? throw JsonFile.Invalid(source, "model.merges", "is missing");
        if (merges.ValueKind != JsonValueKind.Array)
        {
            throw JsonFile.Invalid(source, "model.merges", "must be an array");
        }

        var rules = new Dictionary<long, MergeRule>(merges.GetArrayLength(), PairKeyComparer.Instance);
        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> buffer = stackalloc char[256];
        int rank = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            // Spans instead of substrings: this loop runs for every one of (often) hundreds of thousands of merges.
            string line;
            int space;
            if (merge.ValueKind == JsonValueKind.String)
            {
                line = merge.GetString()!;
                space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                {
                    throw JsonFile.Invalid(source, $"model.merges[{rank}]", $"must be two tokens separated by one space, not '{line}'");
                }
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                string first = merge[0].GetString()!;
                line = string.Concat(first, " ", merge[1].GetString());
                space = first.Length;
            }
            else
            {
                throw JsonFile.Invalid(source, $"model.merges[{rank}]", "must be a \"left right\" string or a [left, right] pair");
            }

            ReadOnlySpan<char> left = line.AsSpan(0, space);
            ReadOnlySpan<char> right = line.AsSpan(space + 1);
            Span<char> joined = left.Length + right.Length <= buffer.Length ? buffer[..(left.Length + right.Length)] : new char[left.Length + right.Length];
            left.CopyTo(joined);
            right.CopyTo(joined[left.Length..]);
            if (!lookup.TryGetValue(left, out int leftId) || !lookup.TryGetValue(right, out int rightId) || !lookup.TryGetValue(joined, out int mergedId))
            {
                throw JsonFile.Invalid(source, $"model.merges[{rank}]", $"merges '{left}' and '{right}', but a token it needs is not in model.vocab");
            }

            rules.TryAdd(BytePairModel.PairKey(leftId, rightId), new MergeRule(rank, mergedId));
            rank++;
        }

        return rules;
    }

    private static TokenizerException Unsupported(string source, string path, string value, string supported) =>
        new($"The tokenizer file '{source}' uses '{value}' at '{path}', which AutoGlm does not support (supported: {supported}). Use a byte-level BPE tokenizer.json or a tiktoken tokenizer.model.");

    private readonly record struct ReadOptions(bool HandWrittenPatterns, bool CachePieces);
}
