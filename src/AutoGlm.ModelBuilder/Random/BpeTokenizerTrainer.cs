using System.Text;
using System.Text.RegularExpressions;

namespace AutoGlm.ModelBuilder.Random;

/// <summary>
/// Trains a byte-level BPE vocabulary (GPT-2 byte-to-unicode alphabet, GLM-4's pre-tokenisation regex) on
/// a text: repeatedly merges the most frequent adjacent pair (ties broken by ordinal order) until the
/// vocabulary is full or every pre-token is one symbol (pairs seen once are merged last, so a small text
/// still fills a sizeable vocabulary). Deterministic.
/// </summary>
internal static partial class BpeTokenizerTrainer
{
    /// <summary>GLM-4's split pattern (the same as its tokenizer.json).</summary>
    public const string SplitPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(SplitPattern)]
    private static partial Regex Splitter();

    /// <summary>GPT-2's map from bytes to printable characters.</summary>
    public static char[] ByteToChar { get; } = BuildByteMap();

    public static TrainedBpeTokenizer Train(string text, int modelVocabSize, CancellationToken cancellationToken)
    {
        int[] specialIds = GlmSpecialTokens.Ids(modelVocabSize);
        int budget = Math.Min(specialIds[0], modelVocabSize);
        var vocab = new List<string>(budget);
        for (int b = 0; b < 256; b++)
        {
            vocab.Add(ByteToChar[b].ToString());
        }

        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Splitter().Matches(text))
        {
            string mapped = string.Concat(Encoding.UTF8.GetBytes(m.Value).Select(b => ByteToChar[b]));
            wordCounts[mapped] = wordCounts.GetValueOrDefault(mapped) + 1;
        }

        List<(List<string> Symbols, int Count)> words = wordCounts
            .OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => (w.Key.Select(ch => ch.ToString()).ToList(), w.Value))
            .ToList();
        var merges = new List<(string Left, string Right)>();
        var known = new HashSet<string>(vocab, StringComparer.Ordinal);
        while (vocab.Count < budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pairs = new Dictionary<(string, string), int>();
            foreach ((List<string> symbols, int count) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var key = (symbols[i], symbols[i + 1]);
                    pairs[key] = pairs.GetValueOrDefault(key) + count;
                }
            }

            (string Left, string Right) best = default;
            int bestCount = 0;
            foreach (((string left, string right), int count) in pairs)
            {
                if (count > bestCount || (count == bestCount && Compare((left, right), best) < 0))
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
            merges.Add(best);
            if (known.Add(merged))
            {
                vocab.Add(merged);
            }

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

        return new TrainedBpeTokenizer(vocab, merges, GlmSpecialTokens.Tokens, specialIds, SplitPattern);
    }

    private static int Compare((string Left, string Right) a, (string Left, string Right) b)
    {
        int c = string.CompareOrdinal(a.Left, b.Left);
        return c != 0 ? c : string.CompareOrdinal(a.Right, b.Right);
    }

    private static char[] BuildByteMap()
    {
        var map = new char[256];
        var printable = new HashSet<int>();
        for (int b = '!'; b <= '~'; b++)
        {
            printable.Add(b);
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            printable.Add(b);
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            printable.Add(b);
        }

        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = printable.Contains(b) ? (char)b : (char)(256 + next++);
        }

        return map;
    }
}
