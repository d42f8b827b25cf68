using System.Text;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Deterministic multilingual text for tokenizer benchmarks: Zipf-distributed English-like words, Chinese
/// and Japanese runs, code, numbers, emoji and white space, so the pre-token cache sees realistic reuse.
/// </summary>
internal static class MultilingualText
{
    public static string Create(int utf8Bytes, int seed = 42)
    {
        var random = new Random(seed);
        string[] words = [.. Enumerable.Range(0, 20_000).Select(_ => Word(random))];
        string[] code = ["public static int Main(string[] args)\n{\n    return 0;\n}\n", "def f(x):\n\treturn x ** 2\n", "for (int i = 0; i < n; i++) { sum += a[i]; }\n", "{\"key\": [1, 2.5, null]}\n"];
        string[] emoji = ["😀", "👍🏽", "🎉", "❤️", "🇨🇳", "👨‍👩‍👧"];
        var text = new StringBuilder();
        int bytes = 0;
        while (bytes < utf8Bytes)
        {
            string piece;
            int kind = random.Next(100);
            if (kind < 55)
            {
                // Zipf: rank r has weight 1/r.
                int rank = (int)Math.Min(words.Length - 1, Math.Floor(Math.Exp(random.NextDouble() * Math.Log(words.Length))) - 1);
                piece = (random.Next(12) == 0 ? char.ToUpperInvariant(words[rank][0]) + words[rank][1..] : words[rank]) + (random.Next(15) == 0 ? ". " : " ");
            }
            else if (kind < 75)
            {
                piece = Han(random, random.Next(2, 12)) + (random.Next(4) == 0 ? "，" : "");
            }
            else if (kind < 82)
            {
                piece = new string([.. Enumerable.Range(0, random.Next(2, 8)).Select(_ => (char)random.Next(0x3041, 0x30FF))]);
            }
            else if (kind < 88)
            {
                piece = random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture) + " ";
            }
            else if (kind < 92)
            {
                piece = code[random.Next(code.Length)];
            }
            else if (kind < 95)
            {
                piece = emoji[random.Next(emoji.Length)];
            }
            else
            {
                piece = random.Next(3) switch { 0 => "\n\n", 1 => "\r\n", _ => "    " };
            }

            text.Append(piece);
            bytes += Encoding.UTF8.GetByteCount(piece);
        }

        return text.ToString();
    }

    private static string Word(Random random)
    {
        string[] syllables = ["ka", "to", "re", "in", "the", "an", "st", "or", "ing", "er", "al", "ou", "ed", "ion", "es", "th", "ar", "en", "is", "it", "ly", "pro", "con", "men", "ter"];
        int count = random.Next(1, 4);
        return string.Concat(Enumerable.Range(0, count).Select(_ => syllables[random.Next(syllables.Length)]));
    }

    private static string Han(Random random, int count) =>
        new([.. Enumerable.Range(0, count).Select(_ => (char)(0x4E00 + (int)Math.Min(0x4FFF, Math.Floor(Math.Exp(random.NextDouble() * Math.Log(0x5000))))))]);
}
