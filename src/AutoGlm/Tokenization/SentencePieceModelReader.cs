using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a SentencePiece <c>tokenizer.model</c> (a protocol-buffer <c>ModelProto</c>)
/// of the BPE type, as ChatGLM3 ships it: its normalization (the identity, or a precompiled rule set such as
/// <c>nmt_nfkc</c>) with SentencePiece's whitespace options (dummy prefix, extra-whitespace removal, ▁ for spaces),
/// merges chosen by piece score (highest first, leftmost among equal scores), characters outside the vocabulary
/// spelled as <c>&lt;0xNN&gt;</c> byte pieces. ChatGLM3's special tokens follow the SentencePiece vocabulary
/// (<c>[MASK]</c> … <c>&lt;|observation|&gt;</c>, ids n … n+8). Models this cannot reproduce exactly (Unigram, WORD,
/// CHAR, unused pieces, whitespace as suffix) fail here with a <see cref="TokenizerException"/> naming the file, the
/// setting and the fix.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class SentencePieceModelReader
{
    /// <summary>ChatGLM3's special tokens, in id order after the SentencePiece vocabulary (its tokenization_chatglm.py).</summary>
    public static IReadOnlyList<string> ChatGlm3SpecialTokens { get; } =
        ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"];

    private const int Normal = 1;
    private const int Unknown = 2;
    private const int Control = 3;
    private const int UserDefined = 4;
    private const int Unused = 5;
    private const int Byte = 6;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Whether <paramref name="content"/> starts like a <c>ModelProto</c> (a pieces field, with binary bytes a
    /// tiktoken rank file, which is text, never has).
    /// </summary>
    public static bool LooksLikeModelProto(ReadOnlySpan<byte> content) =>
        content.Length > 1 && content[0] == 0x0A && content[..Math.Min(content.Length, 64)].IndexOfAnyInRange((byte)0x00, (byte)0x08) >= 0;

    /// <summary>Parses a SentencePiece model; <paramref name="source"/> names it in messages.</summary>
    public static Tokenizer Parse(ReadOnlySpan<byte> content, string source)
    {
        var pieces = new List<(string Text, float Score, int Type)>();
        var trainer = new TrainerSettings(ModelType: 1, ByteFallback: false, UnknownId: 0, TreatWhitespaceAsSuffix: false, UnknownSurface: " \u2047 ");
        var normalizer = new NormalizerSettings(Name: "", CharsMap: [], AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true);
        var reader = new ProtobufReader(content, source);
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(wire, 2, "pieces");
                    pieces.Add(ReadPiece(reader.ReadBytes(out int pieceOffset), source, pieceOffset));
                    break;
                case 2:
                    reader.Expect(wire, 2, "trainer_spec");
                    trainer = ReadTrainer(reader.ReadBytes(out int trainerOffset), source, trainerOffset, trainer);
                    break;
                case 3:
                    reader.Expect(wire, 2, "normalizer_spec");
                    normalizer = ReadNormalizer(reader.ReadBytes(out int normalizerOffset), source, normalizerOffset, normalizer);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (pieces.Count == 0)
        {
            throw new TokenizerException($"The tokenizer file '{source}' is a SentencePiece model without pieces, so no text can be encoded. The file is truncated or damaged; download it again.");
        }

        string? modelType = trainer.ModelType switch { 1 => "UNIGRAM", 2 => null, 3 => "WORD", 4 => "CHAR", var other => other.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (modelType is not null)
        {
            throw Unsupported(source, "trainer_spec.model_type", modelType, "BPE, the type ChatGLM3 ships");
        }

        PrecompiledCharsMap? charsMap = null;
        if (normalizer.CharsMap.Length > 0)
        {
            charsMap = PrecompiledCharsMap.TryParse(normalizer.CharsMap)
                ?? throw new TokenizerException($"The tokenizer file '{source}' has a damaged normalization rule set '{normalizer.Name}' (normalizer_spec.precompiled_charsmap of {normalizer.CharsMap.Length} bytes). Download tokenizer.model again.");
        }

        if (trainer.TreatWhitespaceAsSuffix)
        {
            throw Unsupported(source, "trainer_spec.treat_whitespace_as_suffix", "true", "false");
        }

        return Build(pieces, trainer, normalizer, charsMap, source);
    }

    private static Tokenizer Build(List<(string Text, float Score, int Type)> pieces, TrainerSettings trainer, NormalizerSettings normalizer, PrecompiledCharsMap? charsMap, string source)
    {
        var vocabulary = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        var mergeable = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        var special = new HashSet<int>();
        var control = new HashSet<int>();
        var added = new List<AddedToken>();
        int[]? byteIds = trainer.ByteFallback ? new int[256] : null;
        byteIds?.AsSpan().Fill(-1);
        for (int id = 0; id < pieces.Count; id++)
        {
            (string text, _, int type) = pieces[id];
            if (text.Length == 0)
            {
                throw new TokenizerException($"The tokenizer file '{source}' has an empty piece with id {id}; SentencePiece models have none. The file is damaged; download it again.");
            }

            if (!vocabulary.TryAdd(text, id))
            {
                throw new TokenizerException($"The tokenizer file '{source}' lists the piece '{text}' twice (ids {vocabulary[text]} and {id}); SentencePiece models have unique pieces. The file is damaged; download it again.");
            }

            switch (type)
            {
                case Normal:
                    mergeable[text] = id;
                    break;
                case UserDefined:
                    // Matched whole in the normalized text and never merged, as SentencePiece's prefix matcher does.
                    mergeable[text] = id;
                    added.Add(new AddedToken(id, text, IsSpecial: false, StripLeft: false, StripRight: false, SingleWord: false, Normalized: true));
                    break;
                case Unknown:
                    special.Add(id);
                    break;
                case Control:
                    special.Add(id);
                    control.Add(id);
                    break;
                case Byte:
                    if (!SentencePieceDecoding.TryParseByteToken(text, out byte value))
                    {
                        throw new TokenizerException($"The tokenizer file '{source}' has a byte piece '{text}' (id {id}) that is not of the form <0xNN>. The file is damaged; download it again.");
                    }

                    if (byteIds is not null)
                    {
                        byteIds[value] = id;
                    }

                    break;
                case Unused:
                    throw Unsupported(source, $"pieces[{id}].type", $"UNUSED (piece '{text}')", "NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE");
                default:
                    throw new TokenizerException($"The tokenizer file '{source}' gives the piece '{text}' (id {id}) the unknown type {type}. The file is damaged or from a newer SentencePiece; download it again.");
            }
        }

        if ((uint)trainer.UnknownId >= (uint)pieces.Count || pieces[trainer.UnknownId].Type != Unknown)
        {
            throw new TokenizerException($"The tokenizer file '{source}' names id {trainer.UnknownId} as the unknown piece (trainer_spec.unk_id), but that is not a piece of type UNKNOWN. The file is damaged; download it again.");
        }

        Dictionary<long, MergeRule> merges = BuildMerges(pieces, mergeable);
        for (int i = 0; i < ChatGlm3SpecialTokens.Count; i++)
        {
            string token = ChatGlm3SpecialTokens[i];

            // "sop" and "eop" are plain words too; as whole words only, "[gMASK]sop" still parses and "sopping" stays text.
            bool word = token is "sop" or "eop";
            added.Add(new AddedToken(pieces.Count + i, token, IsSpecial: true, StripLeft: false, StripRight: false, SingleWord: word, Normalized: false));
        }

        var level = new CharacterLevel(byteIds, trainer.UnknownId, FuseUnknown: false);
        var model = new BytePairModel(mergeable, merges, level);
        var textNormalizer = new TextNormalizer(
        [
            new TextNormalizerStep(
                TextNormalizerKind.SentencePiece,
                AddDummyPrefix: normalizer.AddDummyPrefix,
                RemoveExtraWhitespaces: normalizer.RemoveExtraWhitespaces,
                EscapeWhitespaces: normalizer.EscapeWhitespaces,
                CharsMap: charsMap),
        ]);
        var decoding = new SentencePieceDecoding(
            ByteFallback: trainer.ByteFallback,
            StripLeadingSpace: normalizer.AddDummyPrefix,
            StripAllLeadingSpaces: normalizer.RemoveExtraWhitespaces,
            PerCharacterByteRepair: true,
            StripAfterAddedTokens: true,
            SpecialIds: special,
            EmptyIds: control,
            UnknownId: trainer.UnknownId,
            UnknownText: trainer.UnknownSurface,
            ChatGlm3: true);
        return new Tokenizer(source, model, vocabulary, added, textNormalizer, [], addPrefixSpace: false, addedTokensAreByteLevel: false, decoding);
    }

    /// <summary>
    /// SentencePiece merges the adjacent pair whose concatenation is the highest-scoring piece, leftmost among equal
    /// scores. As rules: every split of a piece into two pieces, ranked by the piece's score (equal scores, equal rank).
    /// </summary>
    private static Dictionary<long, MergeRule> BuildMerges(List<(string Text, float Score, int Type)> pieces, Dictionary<string, int> mergeable)
    {
        float[] scores = [.. pieces.Where(p => p.Type == Normal).Select(p => p.Score).Distinct().OrderByDescending(s => s)];
        var rankOf = new Dictionary<float, int>(scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            rankOf[scores[i]] = i;
        }

        var merges = new Dictionary<long, MergeRule>(pieces.Count * 2, PairKeyComparer.Instance);
        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = mergeable.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int id = 0; id < pieces.Count; id++)
        {
            (string text, float score, int type) = pieces[id];
            if (type != Normal)
            {
                continue;
            }

            for (int split = 1; split < text.Length; split++)
            {
                if (char.IsLowSurrogate(text[split]) && char.IsHighSurrogate(text[split - 1]))
                {
                    continue;
                }

                if (lookup.TryGetValue(text.AsSpan(0, split), out int left) && lookup.TryGetValue(text.AsSpan(split), out int right))
                {
                    merges.TryAdd(BytePairModel.PairKey(left, right), new MergeRule(rankOf[score], id));
                }
            }
        }

        return merges;
    }

    private static (string Text, float Score, int Type) ReadPiece(ReadOnlySpan<byte> data, string source, int offset)
    {
        string? text = null;
        float score = 0;
        int type = Normal;
        var reader = new ProtobufReader(data, source, offset);
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(wire, 2, "piece");
                    text = Utf8(reader.ReadBytes(out int at), ref reader, at);
                    break;
                case 2:
                    reader.Expect(wire, 5, "score");
                    score = reader.ReadFloat();
                    break;
                case 3:
                    reader.Expect(wire, 0, "type");
                    type = (int)Math.Min(reader.ReadVarint(), int.MaxValue);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (text ?? throw reader.Damaged($"a piece without text at byte {offset}"), score, type);
    }

    private static TrainerSettings ReadTrainer(ReadOnlySpan<byte> data, string source, int offset, TrainerSettings settings)
    {
        var reader = new ProtobufReader(data, source, offset);
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 3:
                    reader.Expect(wire, 0, "trainer_spec.model_type");
                    settings = settings with { ModelType = (int)Math.Min(reader.ReadVarint(), int.MaxValue) };
                    break;
                case 24:
                    reader.Expect(wire, 0, "trainer_spec.treat_whitespace_as_suffix");
                    settings = settings with { TreatWhitespaceAsSuffix = reader.ReadVarint() != 0 };
                    break;
                case 35:
                    reader.Expect(wire, 0, "trainer_spec.byte_fallback");
                    settings = settings with { ByteFallback = reader.ReadVarint() != 0 };
                    break;
                case 40:
                    reader.Expect(wire, 0, "trainer_spec.unk_id");
                    settings = settings with { UnknownId = (int)reader.ReadVarint() };
                    break;
                case 44:
                    reader.Expect(wire, 2, "trainer_spec.unk_surface");
                    settings = settings with { UnknownSurface = Utf8(reader.ReadBytes(out int at), ref reader, at) };
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return settings;
    }

    private static NormalizerSettings ReadNormalizer(ReadOnlySpan<byte> data, string source, int offset, NormalizerSettings settings)
    {
        var reader = new ProtobufReader(data, source, offset);
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(wire, 2, "normalizer_spec.name");
                    settings = settings with { Name = Utf8(reader.ReadBytes(out int at), ref reader, at) };
                    break;
                case 2:
                    reader.Expect(wire, 2, "normalizer_spec.precompiled_charsmap");
                    settings = settings with { CharsMap = reader.ReadBytes(out _).ToArray() };
                    break;
                case 3:
                    reader.Expect(wire, 0, "normalizer_spec.add_dummy_prefix");
                    settings = settings with { AddDummyPrefix = reader.ReadVarint() != 0 };
                    break;
                case 4:
                    reader.Expect(wire, 0, "normalizer_spec.remove_extra_whitespaces");
                    settings = settings with { RemoveExtraWhitespaces = reader.ReadVarint() != 0 };
                    break;
                case 5:
                    reader.Expect(wire, 0, "normalizer_spec.escape_whitespaces");
                    settings = settings with { EscapeWhitespaces = reader.ReadVarint() != 0 };
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return settings;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes, ref ProtobufReader reader, int offset)
    {
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw reader.Damaged($"text that is not valid UTF-8 at byte {offset}");
        }
    }

    private static TokenizerException Unsupported(string source, string path, string value, string supported) =>
        new($"The tokenizer file '{source}' is a SentencePiece model with {value} at '{path}', which AutoGlm does not support (supported: {supported}). Use the model's tokenizer.json if it has one, or a SentencePiece BPE model.");

    private readonly record struct TrainerSettings(int ModelType, bool ByteFallback, int UnknownId, bool TreatWhitespaceAsSuffix, string UnknownSurface);

    private readonly record struct NormalizerSettings(string Name, byte[] CharsMap, bool AddDummyPrefix, bool RemoveExtraWhitespaces, bool EscapeWhitespaces);
}
