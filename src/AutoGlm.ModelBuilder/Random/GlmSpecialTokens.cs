namespace AutoGlm.ModelBuilder.Random;

/// <summary>The GLM-4 special tokens, in GLM-4's id order, and where a random checkpoint places them.</summary>
internal static class GlmSpecialTokens
{
    public const int EndOfText = 0;
    public const int GMask = 2;
    public const int Sop = 4;
    public const int System = 6;
    public const int User = 7;
    public const int Assistant = 8;
    public const int Observation = 9;

    /// <summary>GLM-4's id of <c>&lt;|endoftext|&gt;</c>; the rest follow consecutively.</summary>
    public const int Glm4FirstId = 151329;

    public static IReadOnlyList<string> Tokens { get; } =
    [
        "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>",
        "<|assistant|>", "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
    ];

    public static int Count => Tokens.Count;

    /// <summary>GLM-Edge's vocabulary size and its id of <c>&lt;|endoftext|&gt;</c> (eos ids 59246, 59253, 59255).</summary>
    public const int GlmEdgeVocabSize = 59264;

    public const int GlmEdgeFirstId = 59246;

    /// <summary>The ids of <see cref="Tokens"/>: GLM-4's or GLM-Edge's own for their vocabulary sizes, else the last ids of the vocabulary.</summary>
    public static int[] Ids(int vocabSize)
    {
        int first = vocabSize >= Glm4FirstId + Count ? Glm4FirstId
            : vocabSize == GlmEdgeVocabSize ? GlmEdgeFirstId
            : vocabSize - Count;
        return Enumerable.Range(first, Count).ToArray();
    }
}
