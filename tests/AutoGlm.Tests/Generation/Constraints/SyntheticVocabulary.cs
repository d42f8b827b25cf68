using System.Text;
using AutoGlm.Generation;
using AutoGlm.Generation.Constraints;

namespace AutoGlm.Tests.Generation.Constraints;

/// <summary>
/// A byte-level vocabulary for constraint tests: every single byte, JSON-ish pieces (quotes with keys, separators,
/// literals, whitespace runs, escapes), multi-byte UTF-8 and random printable strings; the end token is the last id.
/// A random-logits "model" walks it with the real sampler and masker.
/// </summary>
internal sealed class SyntheticVocabulary
{
    private static readonly string[] s_pieces =
    [
        "\"", "\":", "\": ", "\",", "\", \"", "{\"", "{", "}", "[", "]", "]}", "}]", "},{", ", ", ",", ":", " ", "  ", "\n", "\n  ", "\n    ",
        "true", "false", "null", "nu", "ll", "0", "1", "12", "123", "-1", "3.14", "e5", "E-", ".5", "\\n", "\\\"", "\\u00e9", "\\",
        "name", "\"name\"", "\"name\":", "age", "\"age\":", "tags", "\"tags\":[", "red", "green", "blue", "\"red\"", "\"blue\"", "kind", "id",
        "get_weather", "get_weather\n", "set_light", "set_light\n", "set", "get", "_", "city", "\"city\": \"", "on", "off",
        "é", "中文", "\u00ff", "ab\"cd", "x\"}", "\"}", "\"]", "a\n", "\t", "\r",
    ];

    public SyntheticVocabulary(int randomTokens = 400, int seed = 3)
    {
        var tokens = new List<byte[]?>();
        for (int b = 0; b < 256; b++)
        {
            tokens.Add([(byte)b]);
        }

        foreach (string piece in s_pieces)
        {
            tokens.Add(Encoding.UTF8.GetBytes(piece));
        }

        var random = new Random(seed);
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789_-.,:;!?'\"{}[]";
        for (int i = 0; i < randomTokens; i++)
        {
            var text = new char[random.Next(2, 8)];
            for (int j = 0; j < text.Length; j++)
            {
                text[j] = Alphabet[random.Next(Alphabet.Length)];
            }

            tokens.Add(Encoding.UTF8.GetBytes(text));
        }

        EndToken = tokens.Count;
        tokens.Add(null); // the end-of-sequence token: special, no bytes
        Vocabulary = new ConstraintVocabulary([.. tokens]);
        Size = tokens.Count;
    }

    public ConstraintVocabulary Vocabulary { get; }

    public int EndToken { get; }

    public int Size { get; }

    /// <summary>Generates with random logits (seeded) under <paramref name="constraint"/>; returns the text and whether the end token came.</summary>
    public (string Text, bool Stopped, int Tokens) Generate(ConstraintMasker masker, GenerationConstraint constraint, int maxTokens, int seed, float temperature = 1f)
    {
        var random = new Random(seed);
        var sampler = new Sampler(Size);
        var options = new GenerationOptions { Temperature = temperature, MaxNewTokens = maxTokens };
        using var sampling = new SamplingState(options, Size, [1], maxTokens, seed);
        var state = new GrammarState(constraint.Grammar);
        var logits = new float[Size];
        var bytes = new List<byte>();
        for (int generated = 0; generated < maxTokens; generated++)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = (float)(random.NextDouble() * 6);
            }

            int token = masker.Sample(sampler, logits, sampling, state, maxTokens - generated, [EndToken], []);
            if (token == EndToken)
            {
                return (Encoding.UTF8.GetString([.. bytes]), true, generated + 1);
            }

            bytes.AddRange(Vocabulary.Bytes(token).ToArray());
            if (state.DeadEnd)
            {
                break;
            }
        }

        return (Encoding.UTF8.GetString([.. bytes]), false, maxTokens);
    }
}
