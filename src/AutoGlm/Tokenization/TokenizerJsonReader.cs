using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AutoGlm.Tokenization;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a Hugging Face <c>tokenizer.json</c> holding a BPE model, byte-level
/// (ByteLevel pre-tokenizer and decoder) or SentencePiece-style (Prepend/Replace normalizer or Metaspace
/// pre-tokenizer, character symbols with <c>byte_fallback</c>, Replace/ByteFallback/Fuse/Strip decoder).
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

        var steps = new List<TextNormalizerStep>();
        if (JsonFile.Property(root, "normalizer") is { } normalizerElement)
        {
            AddNormalizer(normalizerElement, "normalizer", source, steps);
        }

        var splitters = new List<TextSplitter>();
        var pre = new PreTokenizerState();
        if (JsonFile.Property(root, "pre_tokenizer") is { } preTokenizer)
        {
            ReadPreTokenizer(preTokenizer, "pre_tokenizer", source, options, splitters, steps, ref pre);
        }

        TextNormalizer? normalizer = steps.Count == 0 ? null : new TextNormalizer([.. steps]);
        var decoder = new DecoderState();
        if (JsonFile.Property(root, "decoder") is { } decoderElement)
        {
            ReadDecoder(decoderElement, "decoder", source, ref decoder);
        }

        Dictionary<string, int> vocabulary = ReadVocabulary(model, source);
        Dictionary<long, MergeRule> merges = ReadMerges(model, vocabulary, source);
        bool ignoreMerges = JsonFile.Boolean(model, "ignore_merges", false, source, "model");
        bool byteFallback = JsonFile.Boolean(model, "byte_fallback", false, source, "model");
        if (pre.ByteLevel)
        {
            if (byteFallback || decoder.SentencePiece)
            {
                throw Unsupported(source, byteFallback ? "model.byte_fallback" : "decoder", byteFallback ? "true" : "a SentencePiece-style decoder", "a ByteLevel tokenizer without byte fallback and with a ByteLevel decoder");
            }

            var bpe = new BytePairModel(vocabulary, merges, ignoreMerges, options.CachePieces);
            return new Tokenizer(source, bpe, vocabulary, added, normalizer, [.. splitters], pre.AddPrefixSpace, addedTokensAreByteLevel: true);
        }

        // No ByteLevel pre-tokenizer: a SentencePiece-style tokenizer whose symbols are characters.
        if (decoder.ByteLevel)
        {
            throw new TokenizerException(
                $"The tokenizer file '{source}' has a ByteLevel decoder but no ByteLevel pre-tokenizer, so its tokens would not decode to the text they encode. The file is inconsistent; use the tokenizer.json published with the model.");
        }

        if (ignoreMerges)
        {
            throw Unsupported(source, "model.ignore_merges", "true", "false for a tokenizer without a ByteLevel pre-tokenizer");
        }

        int unknownId = -1;
        if (JsonFile.String(model, "unk_token", source, "model") is { } unknown)
        {
            unknownId = vocabulary.TryGetValue(unknown, out int id) ? id
                : throw JsonFile.Invalid(source, "model.unk_token", $"names '{unknown}', which is not in model.vocab");
        }

        int[]? byteIds = null;
        if (byteFallback)
        {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                byteIds[b] = vocabulary.TryGetValue(SentencePieceDecoding.ByteToken((byte)b), out int id) ? id : -1;
            }
        }

        var level = new CharacterLevel(byteIds, unknownId, JsonFile.Boolean(model, "fuse_unk", false, source, "model"));
        var characterModel = new BytePairModel(vocabulary, merges, level, options.CachePieces);
        var decoding = new SentencePieceDecoding(
            ByteFallback: decoder.ByteFallback,
            StripLeadingSpace: decoder.StripLeadingSpace,
            StripAllLeadingSpaces: false,
            PerCharacterByteRepair: false,
            StripAfterAddedTokens: false,
            SpecialIds: new HashSet<int>(),
            EmptyIds: new HashSet<int>(),
            UnknownId: unknownId,
            UnknownText: null,
            ChatGlm3: false);
        if (!decoder.ReplacesMetaspace && decoder.SentencePiece)
        {
            throw Unsupported(source, "decoder", "a decoder that keeps '▁'", "Replace('▁', ' ') or Metaspace with ByteFallback, Fuse and Strip");
        }

        return new Tokenizer(source, characterModel, vocabulary, added, normalizer, [.. splitters], addPrefixSpace: false, addedTokensAreByteLevel: false, decoding);
    }

    private static void AddNormalizer(JsonElement element, string path, string source, List<TextNormalizerStep> steps)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        string type = JsonFile.String(element, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        switch (type)
        {
            case "NFC": steps.Add(new(TextNormalizerKind.Form, NormalizationForm.FormC)); break;
            case "NFD": steps.Add(new(TextNormalizerKind.Form, NormalizationForm.FormD)); break;
            case "NFKC": steps.Add(new(TextNormalizerKind.Form, NormalizationForm.FormKC)); break;
            case "NFKD": steps.Add(new(TextNormalizerKind.Form, NormalizationForm.FormKD)); break;
            case "Lowercase": steps.Add(new(TextNormalizerKind.Lowercase)); break;
            case "Prepend":
                steps.Add(new(TextNormalizerKind.Prepend, Text: JsonFile.String(element, "prepend", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'prepend'")));
                break;
            case "Replace":
                (string pattern, string content) = ReadReplace(element, path, source);
                steps.Add(new(TextNormalizerKind.Replace, Text: pattern, Replacement: content));
                break;
            case "Sequence":
                int index = 0;
                foreach (JsonElement child in (JsonFile.Property(element, "normalizers") ?? throw JsonFile.Invalid(source, path, "has no 'normalizers'")).EnumerateArray())
                {
                    AddNormalizer(child, $"{path}.normalizers[{index++}]", source, steps);
                }

                break;
            default:
                throw Unsupported(source, $"{path}.type", type, "NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence");
        }
    }

    /// <summary>Reads a Replace step's literal pattern and content (regular-expression patterns are not supported).</summary>
    private static (string Pattern, string Content) ReadReplace(JsonElement element, string path, string source)
    {
        JsonElement pattern = JsonFile.Property(element, "pattern") ?? throw JsonFile.Invalid(source, path, "has no 'pattern'");
        string literal = JsonFile.String(pattern, "String", source, $"{path}.pattern")
            ?? throw Unsupported(source, $"{path}.pattern", pattern.GetRawText(), "a {\"String\": ...} pattern");
        if (literal.Length == 0)
        {
            throw JsonFile.Invalid(source, $"{path}.pattern", "must not be empty");
        }

        string content = JsonFile.String(element, "content", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'content'");
        return (literal, content);
    }

    private static void ReadPreTokenizer(JsonElement element, string path, string source, ReadOptions options, List<TextSplitter> splitters, List<TextNormalizerStep> steps, ref PreTokenizerState state)
    {
        string type = JsonFile.String(element, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        switch (type)
        {
            case "Sequence":
                int index = 0;
                foreach (JsonElement child in (JsonFile.Property(element, "pretokenizers") ?? throw JsonFile.Invalid(source, path, "has no 'pretokenizers'")).EnumerateArray())
                {
                    ReadPreTokenizer(child, $"{path}.pretokenizers[{index++}]", source, options, splitters, steps, ref state);
                }

                break;
            case "Split" when IsDelimiterSplit(element, source, path, out char delimiter, out bool mergedWithNext):
                splitters.Add(new DelimiterSplitter(delimiter, mergedWithNext));
                break;
            case "Split":
                splitters.Add(ReadSplit(element, path, source, options));
                break;
            case "Digits":
                splitters.Add(new DigitsSplitter(JsonFile.Boolean(element, "individual_digits", false, source, path)));
                break;
            case "Metaspace":
                // Spaces become ▁ and ▁ is prepended before any split, as the reference does; it runs on the normalized text.
                if (splitters.Count > 0 || state.ByteLevel)
                {
                    throw Unsupported(source, path, "Metaspace after another pre-tokenizer", "Metaspace as the first pre-tokenizer");
                }

                string replacement = JsonFile.String(element, "replacement", source, path) ?? "\u2581";
                if (replacement != "\u2581")
                {
                    throw Unsupported(source, $"{path}.replacement", replacement, "'\u2581'");
                }

                string scheme = JsonFile.String(element, "prepend_scheme", source, path)
                    ?? (JsonFile.Boolean(element, "add_prefix_space", true, source, path) ? "always" : "never");
                MetaspacePrependScheme prepend = scheme switch
                {
                    "always" => MetaspacePrependScheme.Always,
                    "first" => MetaspacePrependScheme.First,
                    "never" => MetaspacePrependScheme.Never,
                    _ => throw Unsupported(source, $"{path}.prepend_scheme", scheme, "always, first, never"),
                };
                steps.Add(new(TextNormalizerKind.Metaspace, PrependScheme: prepend));
                if (JsonFile.Boolean(element, "split", true, source, path))
                {
                    splitters.Add(new DelimiterSplitter(TextNormalizer.Metaspace, mergedWithNext: true));
                }

                state.Metaspace = true;
                break;
            case "ByteLevel":
                if (state.Metaspace)
                {
                    throw Unsupported(source, path, "ByteLevel after Metaspace", "one of ByteLevel or Metaspace");
                }

                state.ByteLevel = true;
                if (JsonFile.Boolean(element, "add_prefix_space", false, source, path))
                {
                    if (splitters.Count > 0)
                    {
                        throw Unsupported(source, $"{path}.add_prefix_space", "true after another pre-tokenizer", "false, or ByteLevel as the first pre-tokenizer");
                    }

                    state.AddPrefixSpace = true;
                }

                if (JsonFile.Boolean(element, "use_regex", true, source, path))
                {
                    splitters.Add(CreateSplitter(Gpt2PatternSplitter.Pattern, removeMatches: false, invert: false, source, path, options));
                }

                break;
            default:
                throw Unsupported(source, $"{path}.type", type, "Split, ByteLevel, Metaspace, Digits, Sequence");
        }
    }

    /// <summary>A Split on one literal character that keeps it with the piece before or after it (Gemma's Split on ' ').</summary>
    private static bool IsDelimiterSplit(JsonElement element, string source, string path, out char delimiter, out bool mergedWithNext)
    {
        delimiter = default;
        mergedWithNext = false;
        string? behavior = JsonFile.String(element, "behavior", source, path);
        if (behavior is not ("MergedWithPrevious" or "MergedWithNext") || JsonFile.Boolean(element, "invert", false, source, path)
            || JsonFile.Property(element, "pattern") is not { } pattern || JsonFile.String(pattern, "String", source, $"{path}.pattern") is not { Length: 1 } literal)
        {
            return false;
        }

        delimiter = literal[0];
        mergedWithNext = behavior == "MergedWithNext";
        return true;
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

    private static void ReadDecoder(JsonElement decoder, string path, string source, ref DecoderState state)
    {
        if (decoder.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        string type = JsonFile.String(decoder, "type", source, path) ?? throw JsonFile.Invalid(source, path, "has no 'type'");
        switch (type)
        {
            case "Sequence":
                int index = 0;
                foreach (JsonElement child in (JsonFile.Property(decoder, "decoders") ?? throw JsonFile.Invalid(source, path, "has no 'decoders'")).EnumerateArray())
                {
                    ReadDecoder(child, $"{path}.decoders[{index++}]", source, ref state);
                }

                break;
            case "ByteLevel":
                state.ByteLevel = true;
                break;
            case "Replace":
                (string pattern, string content) = ReadReplace(decoder, path, source);
                if (pattern != "\u2581" || content != " ")
                {
                    throw Unsupported(source, $"{path}.pattern", pattern, "a Replace of '\u2581' by ' '");
                }

                state.ReplacesMetaspace = true;
                state.SentencePiece = true;
                break;
            case "ByteFallback":
                state.ByteFallback = true;
                state.SentencePiece = true;
                break;
            case "Fuse":
                state.SentencePiece = true;
                break;
            case "Strip":
                int start = JsonFile.Property(decoder, "start") is { ValueKind: JsonValueKind.Number } s && s.TryGetInt32(out int v) ? v : 0;
                int stop = JsonFile.Property(decoder, "stop") is { ValueKind: JsonValueKind.Number } e && e.TryGetInt32(out int w) ? w : 0;
                if (JsonFile.String(decoder, "content", source, path) != " " || start > 1 || stop != 0)
                {
                    throw Unsupported(source, path, $"Strip(content, start {start}, stop {stop})", "Strip(' ', start 0 or 1, stop 0)");
                }

                state.StripLeadingSpace |= start == 1;
                state.SentencePiece = true;
                break;
            case "Metaspace":
                string scheme = JsonFile.String(decoder, "prepend_scheme", source, path)
                    ?? (JsonFile.Boolean(decoder, "add_prefix_space", true, source, path) ? "always" : "never");
                state.StripLeadingSpace |= scheme != "never";
                state.ReplacesMetaspace = true;
                state.SentencePiece = true;
                break;
            default:
                throw Unsupported(source, $"{path}.type", type, "ByteLevel, or Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence");
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
        new($"The tokenizer file '{source}' uses '{value}' at '{path}', which AutoGlm does not support (supported: {supported}). Use a BPE tokenizer.json (byte-level or SentencePiece-style), a tiktoken tokenizer.model or a SentencePiece BPE tokenizer.model.");

    private readonly record struct ReadOptions(bool HandWrittenPatterns, bool CachePieces);

    private record struct PreTokenizerState(bool ByteLevel, bool AddPrefixSpace, bool Metaspace);

    private record struct DecoderState(bool ByteLevel, bool SentencePiece, bool ReplacesMetaspace, bool ByteFallback, bool StripLeadingSpace);
}
