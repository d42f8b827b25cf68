namespace AutoGlm.ModelBuilder.Checkpoints;

/// <summary>The Hugging Face tensor names of each GLM architecture.</summary>
internal sealed class GlmWeightNames
{
    private readonly GlmArchitecture _architecture;

    public GlmWeightNames(GlmArchitecture architecture)
    {
        _architecture = architecture;
    }

    private bool IsChatGlm => _architecture == GlmArchitecture.ChatGlm;

    public string Embedding => IsChatGlm ? "transformer.embedding.word_embeddings.weight" : "model.embed_tokens.weight";

    public string FinalNorm => IsChatGlm ? "transformer.encoder.final_layernorm.weight" : "model.norm.weight";

    public string LmHead => IsChatGlm ? "transformer.output_layer.weight" : "lm_head.weight";

    public string InputNorm(int layer) => Layer(layer) + "input_layernorm.weight";

    public string PostAttentionNorm(int layer) => Layer(layer) + "post_attention_layernorm.weight";

    /// <summary>GLM-4-0414's norm of the attention output (before the residual add).</summary>
    public string PostSelfAttentionNorm(int layer) => Layer(layer) + "post_self_attn_layernorm.weight";

    /// <summary>GLM-4-0414's norm of the MLP output (before the residual add).</summary>
    public string PostMlpNorm(int layer) => Layer(layer) + "post_mlp_layernorm.weight";

    /// <summary>The fused [Q | K | V] projection (ChatGLM only).</summary>
    public string FusedQkv(int layer, string kind) => Layer(layer) + "self_attention.query_key_value." + kind;

    /// <summary>A separate projection: <paramref name="projection"/> is q, k or v.</summary>
    public string Projection(int layer, char projection, string kind) => Layer(layer) + $"self_attn.{projection}_proj.{kind}";

    public string OutputProjection(int layer) => Layer(layer) + (IsChatGlm ? "self_attention.dense.weight" : "self_attn.o_proj.weight");

    public string GateUp(int layer) => Layer(layer) + (IsChatGlm ? "mlp.dense_h_to_4h.weight" : "mlp.gate_up_proj.weight");

    public string Down(int layer) => Layer(layer) + (IsChatGlm ? "mlp.dense_4h_to_h.weight" : "mlp.down_proj.weight");

    private string Layer(int layer) => IsChatGlm ? $"transformer.encoder.layers.{layer}." : $"model.layers.{layer}.";
}
