using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace AutoGlm.ModelBuilder.Random;

/// <summary>
/// Trains a ChatGLM3-style SentencePiece BPE model on a text and writes it as a <c>tokenizer.model</c> (a
/// protocol-buffer <c>ModelProto</c>): <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, the 256 byte pieces
/// <c>&lt;0x00&gt;</c> … <c>&lt;0xFF&gt;</c>, then pieces learned by merging the most frequent adjacent pair within
/// words (a word is a line's ▁-prefixed run; ties broken by ordinal order; score −(merge index)), then the characters,
/// then control pieces that fill the vocabulary to its size. Byte fallback on, identity normalization, a dummy
/// prefix, spaces kept as they are (no extra-whitespace removal). ChatGLM3's nine special tokens follow it.
/// Deterministic.
/// </summary>
internal static class SentencePieceModelTrainer
{
    /// <summary>Pieces before the learned ones: unknown, begin and end of sentence, 256 bytes.</summary>
    public const int ReservedPieces = 3 + 256;

    /// <summary>ChatGLM3's special tokens after the SentencePiece vocabulary.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } =
        ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"];

    private const int Normal = 1;
    private const int Unknown = 2;
    private const int Control = 3;
    private const int Byte = 6;

    /// <summary>The pieces (text, score, type) of a SentencePiece vocabulary of <paramref name="pieceCount"/> pieces.</summary>
    public static List<(string Text, float Score, int Type)> Train(string text, int pieceCount, bool removeExtraWhitespaces, CancellationToken cancellationToken)
    {
        if (pieceCount < ReservedPieces + 1)
        {
            throw new ArgumentException($"The SentencePiece vocabulary of {pieceCount} pieces is too small: it needs at least {ReservedPieces + 1} (unknown, bos, eos, 256 bytes, one more). Raise --vocab.");
        }

        var pieces = new List<(string Text, float Score, int Type)>(pieceCount)
        {
            ("<unk>", 0, Unknown),
            ("<s>", 0, Control),
            ("</s>", 0, Control),
        };
        for (int b = 0; b < 256; b++)
        {
            pieces.Add(($"<0x{b:X2}>", 0, Byte));
        }

        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var charCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            string normalized = "\u2581" + (removeExtraWhitespaces ? string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries)) : line).Replace(' ', '\u2581');
            int start = 0;
            for (int i = 1; i <= normalized.Length; i++)
            {
                if (i == normalized.Length || normalized[i] == '\u2581')
                {
                    string word = normalized[start..i];
                    wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
                    start = i;
                }
            }
        }

        var words = new List<(List<string> Symbols, int Count)>();
        foreach ((string word, int count) in wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            var symbols = new List<string>();
            for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1)
            {
                string symbol = char.IsSurrogatePair(word, i) ? word.Substring(i, 2) : word[i].ToString();
                symbols.Add(symbol);
                charCounts[symbol] = charCounts.GetValueOrDefault(symbol) + count;
            }

            words.Add((symbols, count));
        }

        // Characters are kept (most frequent first) as long as they fit; the rest are spelled with byte pieces.
        string[] characters = [.. charCounts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).Take(pieceCount - ReservedPieces)];
        var known = new HashSet<string>(characters, StringComparer.Ordinal);
        var learned = new List<string>();
        int budget = pieceCount - ReservedPieces - characters.Length;
        while (learned.Count < budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pairs = new Dictionary<(string, string), int>();
            foreach ((List<string> symbols, int count) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (known.Contains(symbols[i]) && known.Contains(symbols[i + 1]))
                    {
                        var key = (symbols[i], symbols[i + 1]);
                        pairs[key] = pairs.GetValueOrDefault(key) + count;
                    }
                }
            }

            (string Left, string Right) best = default;
            int bestCount = 0;
            foreach (((string left, string right), int count) in pairs)
            {
                if (!known.Contains(left + right) && (count > bestCount || (count == bestCount && Compare((left, right), best) < 0)))
                {
                    best = (left, right);
                    bestCount = count;
                }
            }

            if (bestCount == 0)
            {
                break;
            }

            string merged = best.Left + best.Right;
            learned.Add(merged);
            known.Add(merged);
            foreach ((List<string> symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Left && symbols[i + 1] == best.Right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }

        for (int i = 0; i < learned.Count; i++)
        {
            pieces.Add((learned[i], -i, Normal));
        }

        for (int i = 0; i < characters.Length; i++)
        {
            pieces.Add((characters[i], -(learned.Count + i), Normal));
        }

        // Control pieces are never produced by encoding, so they fill the vocabulary without changing any encoding.
        for (int i = 0; pieces.Count < pieceCount; i++)
        {
            pieces.Add(($"<unused_{i}>", 0, Control));
        }

        return pieces;
    }

    /// <summary>Writes the pieces as a SentencePiece <c>ModelProto</c>.</summary>
    public static void WriteModel(string path, IReadOnlyList<(string Text, float Score, int Type)> pieces, bool removeExtraWhitespaces)
    {
        var model = new MemoryStream();
        Span<byte> single = stackalloc byte[4];
        foreach ((string text, float score, int type) in pieces)
        {
            var piece = new MemoryStream();
            WriteBytes(piece, 1, Encoding.UTF8.GetBytes(text));
            WriteTag(piece, 2, 5);
            BinaryPrimitives.WriteSingleLittleEndian(single, score);
            piece.Write(single);
            if (type != Normal)
            {
                WriteVarintField(piece, 3, (ulong)type);
            }

            WriteBytes(model, 1, piece.ToArray());
        }

        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2);                          // model_type: BPE
        WriteVarintField(trainer, 4, (ulong)pieces.Count);        // vocab_size
        WriteVarintField(trainer, 35, 1);                         // byte_fallback
        WriteVarintField(trainer, 40, 0);                         // unk_id
        WriteVarintField(trainer, 41, 1);                         // bos_id
        WriteVarintField(trainer, 42, 2);                         // eos_id
        WriteVarintField(trainer, 43, unchecked((ulong)-1L));     // pad_id: none
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, "identity"u8.ToArray());
        WriteVarintField(normalizer, 3, 1);                       // add_dummy_prefix
        WriteVarintField(normalizer, 4, removeExtraWhitespaces ? 1UL : 0UL);
        WriteVarintField(normalizer, 5, 1);                       // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());

        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        model.Position = 0;
        model.CopyTo(stream);
    }

    /// <summary>Writes ChatGLM3's <c>tokenizer_config.json</c> (no chat template: ChatGLM3 builds its prompt from ids).</summary>
    public static void WriteTokenizerConfig(string path)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("tokenizer_class", "ChatGLMTokenizer");
        w.WriteString("unk_token", "<unk>");
        w.WriteString("bos_token", "<s>");
        w.WriteString("eos_token", "</s>");
        w.WriteString("pad_token", "<unk>");
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteBoolean("remove_space", false);
        w.WriteNumber("model_max_length", 8192);
        w.WriteString("padding_side", "left");
        w.WriteEndObject();
    }

    /// <summary>The ids of <see cref="SpecialTokens"/> for a model vocabulary of <paramref name="vocabSize"/> ids.</summary>
    public static int[] SpecialIds(int vocabSize) => [.. Enumerable.Range(vocabSize - SpecialTokens.Count, SpecialTokens.Count)];

    private static int Compare((string Left, string Right) a, (string Left, string Right) b)
    {
        int c = string.CompareOrdinal(a.Left, b.Left);
        return c != 0 ? c : string.CompareOrdinal(a.Right, b.Right);
    }

    private static void WriteTag(Stream stream, int field, int wireType) => WriteVarint(stream, ((ulong)field << 3) | (uint)wireType);

    private static void WriteVarintField(Stream stream, int field, ulong value)
    {
        WriteTag(stream, field, 0);
        WriteVarint(stream, value);
    }

    private static void WriteBytes(Stream stream, int field, byte[] bytes)
    {
        WriteTag(stream, field, 2);
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
