using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a tiktoken rank file (GLM-4's <c>tokenizer.model</c>: one
/// <c>base64-token rank</c> pair per line) with the GLM-4 split pattern. tiktoken merges the adjacent pair
/// whose concatenation has the lowest rank; the merge table built here from every two-part split of every
/// token gives exactly that, so the same BPE engine serves both file forms.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TiktokenReader
{
    /// <summary>GLM-4's special tokens, numbered from the end of the ranks, for a folder without <c>added_tokens_decoder</c>.</summary>
    private static readonly string[] s_glm4SpecialTokens =
    [
        "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>",
        "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
    ];

    /// <summary>Reads a rank file; special tokens come from <paramref name="config"/> when it has any.</summary>
    public static Tokenizer Load(string path, TokenizerConfigFile? config)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"Cannot read the tokenizer file '{path}': {e.Message}", e);
        }

        return Parse(content, path, config);
    }

    /// <summary>Parses rank-file content; <paramref name="source"/> names it in messages.</summary>
    public static Tokenizer Parse(ReadOnlySpan<byte> content, string source, TokenizerConfigFile? config)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        int maxRank = -1;
        while (content.Length > 0)
        {
            lineNumber++;
            int end = content.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? content : content[..end];
            content = end < 0 ? [] : content[(end + 1)..];
            line = line.TrimEnd((byte)'\r');
            if (line.IsEmpty)
            {
                continue;
            }

            int space = line.IndexOf((byte)' ');
            byte[] token = new byte[Math.Max(1, line.Length)];
            if (space <= 0 || !System.Buffers.Text.Base64.IsValid(line[..space]) ||
                System.Buffers.Text.Base64.DecodeFromUtf8(line[..space], token, out _, out int written) != System.Buffers.OperationStatus.Done ||
                !int.TryParse(line[(space + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int rank) ||
                written == 0)
            {
                string shown = Encoding.UTF8.GetString(line[..Math.Min(line.Length, 60)]);
                if (line.IndexOfAnyInRange((byte)0, (byte)0x08) >= 0)
                {
                    shown = "(binary data)";
                }

                throw new TokenizerException(
                    $"The tokenizer file '{source}' has a bad line {lineNumber}: expected '<base64 token> <rank>' but found '{shown}'. A tiktoken tokenizer.model has one such pair per line (a SentencePiece tokenizer.model is binary and read as such).");
            }

            string text = ByteLevelAlphabet.ToText(token.AsSpan(0, written));
            if (!vocabulary.TryAdd(text, rank))
            {
                throw new TokenizerException($"The tokenizer file '{source}' lists the same token twice (line {lineNumber}, rank {rank}); the file is damaged.");
            }

            maxRank = Math.Max(maxRank, rank);
        }

        if (vocabulary.Count == 0)
        {
            throw new TokenizerException($"The tokenizer file '{source}' holds no ranks; it is empty or not a tiktoken rank file.");
        }

        var merges = new Dictionary<long, MergeRule>(vocabulary.Count * 2, PairKeyComparer.Instance);
        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach ((string token, int rank) in vocabulary)
        {
            for (int split = 1; split < token.Length; split++)
            {
                if (lookup.TryGetValue(token.AsSpan(0, split), out int left) && lookup.TryGetValue(token.AsSpan(split), out int right))
                {
                    merges.TryAdd(BytePairModel.PairKey(left, right), new MergeRule(rank, rank));
                }
            }
        }

        IReadOnlyList<AddedToken> added = config is { AddedTokens.Count: > 0 }
            ? config.AddedTokens
            : [.. s_glm4SpecialTokens.Select((t, i) => new AddedToken(maxRank + 1 + i, t, IsSpecial: true, false, false, false, Normalized: false))];

        var bpe = new BytePairModel(vocabulary, merges, ignoreMerges: true);
        TextSplitter splitter = Cl100kPatternSplitter.TryCreate(Cl100kPatternSplitter.Cl100kPattern)!;
        return new Tokenizer(source, bpe, vocabulary, added, normalizer: null, [splitter], addPrefixSpace: false, addedTokensAreByteLevel: false);
    }
}
