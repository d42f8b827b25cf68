namespace AutoGlm.Models;

/// <summary>
/// The largest sizes AutoGlm accepts from a model folder or tokenizer file, checked before anything is allocated.
/// Each is far above any released GLM, Llama or Qwen model, and low enough that the buffers sized by it fit in memory
/// and in .NET arrays; a file beyond one is damaged or hostile.
/// </summary>
internal static class ModelLimits
{
    /// <summary>Transformer layers (the largest released models have about 130).</summary>
    public const int MaxLayers = 1024;

    /// <summary>Attention heads and key/value heads.</summary>
    public const int MaxHeads = 1024;

    /// <summary>The size of one attention head (released models use 64 to 256).</summary>
    public const int MaxHeadSize = 1024;

    /// <summary>The hidden size (released models reach about 16k).</summary>
    public const int MaxHiddenSize = 1 << 17;

    /// <summary>The vocabulary size, and so one more than the largest token id (released vocabularies reach about 260k).</summary>
    public const int MaxVocabularySize = 1 << 22;

    /// <summary>The context length in tokens.</summary>
    public const int MaxContextLength = 1 << 24;

    /// <summary>Logits floats one decode step may hold (batch × vocabulary): 1 GiB.</summary>
    public const long MaxLogitsFloats = 1L << 28;
}
