namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// The parity corpus plus texts that reach SentencePiece's byte fallback and whitespace handling: characters
/// outside a 32k vocabulary (emoji, rare CJK, scripts, private use), runs of spaces at either end, newlines.
/// </summary>
internal static class SentencePieceCorpus
{
    public static IReadOnlyList<string> Texts { get; } =
    [
        .. ParityCorpus.Texts,
        "🦙 llama 🦜🔥 ⚡️ 🧑‍💻",
        "罕见字：龘靐齉爩 㐀㐁 𪚥",
        "ancient 𓀀𓀁 runes ᚠᚢᚦ cuneiform 𒀀",
        "private use \uE000\uF8FF and \U000F0000",
        "    four leading",
        "two  inner   runs    of spaces",
        "trailing    ",
        " ",
        "  ",
        "\n",
        "\n\nstart with newlines",
        "line one\nline two\n\n\nline five\n",
        "tab\tseparated\tvalues\n1\t2\t3",
        "▁ already a metaspace ▁▁ and <0x41> text",
        "<s> and </s> and <unk> written as text",
        "Hello world",
        " Hello world",
        "Hello  world ",
        "ÿ þ ß ø æ œ",
        "😀",
        "a😀",
        "😀a",
        "ԱԲԳ ქართული ትግርኛ ᏣᎳᎩ",
        "数学公式：∑ᵢ xᵢ² ≤ ∫₀¹ f(x) dx",
    ];
}
