namespace AutoGlm.Models;

/// <summary>What a model folder describes: architecture sizes, context length, stop tokens, precision.</summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record GlmModelInfo
{
    /// <summary>The model folder (full path).</summary>
    public required string FolderPath { get; init; }

    /// <summary>The checkpoint's <c>model_type</c>: <c>glm</c>, <c>glm4</c> or <c>chatglm</c>.</summary>
    public required string ModelType { get; init; }

    /// <summary>Transformer layers.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Attention heads.</summary>
    public required int AttentionHeadCount { get; init; }

    /// <summary>Key/value heads (grouped-query attention).</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Size of one attention head.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Hidden size.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Vocabulary size (length of a logits row).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>The most positions one sequence may use.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Token ids that end generation (from <c>generation_config.json</c>, else <c>genai_config.json</c>).</summary>
    public required IReadOnlyList<int> EosTokenIds { get; init; }

    /// <summary>The precision the model was built with: <c>fp32</c>, <c>fp16</c> or <c>int4</c>.</summary>
    public required string Precision { get; init; }

    /// <summary>Whether the KV cache is float16 (otherwise float32).</summary>
    public required bool KvCacheIsFloat16 { get; init; }

    /// <summary>Bytes of KV cache one token of one sequence takes (all layers, keys and values).</summary>
    public long KvBytesPerToken => 2L * LayerCount * KeyValueHeadCount * HeadSize * (KvCacheIsFloat16 ? 2 : 4);
}
