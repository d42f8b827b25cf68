using System.Text;

namespace AutoGlm.Tests.Tokenization;

/// <summary>Texts that exercise every branch of the split pattern, the byte-level BPE and the added-token matcher.</summary>
internal static class ParityCorpus
{
    public static IReadOnlyList<string> Texts { get; } = Create();

    private static string[] Create()
    {
        var texts = new List<string>
        {
            "Hello world",
            "The quick brown fox jumps over the lazy dog. It's 5 o'clock; they're here, we've won, I'm sure, you'll see, he'd go.",
            "IT'S LOUD. THEY'RE LOUD. Don'T Mix'Em 'S 'sa 're're",
            "人工智能是计算机科学的一个分支，它企图了解智能的实质。",
            "日本語のテキストです。カタカナとひらがな、そして漢字。",
            "한국어 텍스트도 있습니다.",
            "Привет, мир! Съешь же ещё этих мягких французских булок.",
            "مرحبا بالعالم ١٢٣٤٥",
            "नमस्ते दुनिया",
            "Ελληνικά κείμενα",
            "public static int Main(string[] args)\n{\n    return args.Length == 0 ? 1 : 0;\n}\n",
            "def f(x):\n\tif x > 0:\n\t\treturn x ** 2  # square\n\treturn -x\n",
            "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
            "https://example.com/path?query=1&other=two#frag",
            "😀😃😄 emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇨🇳🇯🇵 😀abc a😀b",
            "1234567890 3.14159 1,000,000 -42 +7 1e-10 0x1F １２３ ⅷ ½",
            "   leading spaces",
            "trailing spaces   ",
            "tabs\t\tand\tmore\t",
            "\n\n\nnewlines\n\n",
            "  \n  mixed \n\t \n whitespace  \n",
            "windows\r\nline\r\n\r\nendings\r\n",
            "a\u00A0b\u3000c\u2003d\u0085e\u2028f",
            "e\u0301 cafe\u0301 naïve résumé Ångström",
            "𠀀𠀁𠀂 ext-B 𝒜𝒷𝒸 math 𝟙𝟚𝟛",
            "<|begin_of_text|>Hello<|eot_id|>",
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "text<|end_of_text|>more <|reserved_special_token_5|> tail <|begin_of_text",
            "it’s “quoted” — dash … ellipsis ‘single’",
            "!!!???... ---- ==== **** ////",
            "$100 €200 ¥300 £400 #hashtag @mention",
            "MixedCASE camelCase snake_case kebab-case SCREAMING_CASE",
            "'s 't 're 've 'm 'll 'd",
            " ",
            "\t",
            "\n",
            "a",
            "中",
            new string('a', 300),
            new string(' ', 100) + "x",
            string.Concat(Enumerable.Repeat("ab", 150)),
            string.Concat(Enumerable.Repeat("😀", 40)),
            string.Concat(Enumerable.Repeat("的", 120)),
            new string('1', 50),
            "x" + new string('\n', 20) + "y",
        };

        // A deterministic jumble of all the above, to catch interactions between neighbouring pieces.
        var random = new Random(1234);
        string pool = string.Concat(texts.Take(35));
        for (int i = 0; i < 20; i++)
        {
            var builder = new StringBuilder();
            int length = random.Next(20, 200);
            for (int j = 0; j < length; j++)
            {
                int at = random.Next(pool.Length);
                if (char.IsLowSurrogate(pool[at]))
                {
                    at--;
                }

                builder.Append(pool[at]);
                if (char.IsHighSurrogate(pool[at]) && at + 1 < pool.Length)
                {
                    builder.Append(pool[at + 1]);
                }
            }

            texts.Add(builder.ToString());
        }

        return [.. texts];
    }
}
