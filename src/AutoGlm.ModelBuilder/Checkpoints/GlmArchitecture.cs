namespace AutoGlm.ModelBuilder;

/// <summary>The GLM checkpoint families the builder converts.</summary>
public enum GlmArchitecture
{
    /// <summary><c>GlmForCausalLM</c> (<c>model_type</c> <c>glm</c>): GLM-Edge, glm-4-9b-chat-hf.</summary>
    Glm,

    /// <summary><c>Glm4ForCausalLM</c> (<c>model_type</c> <c>glm4</c>): GLM-4-0414, with post-attention and post-MLP norms.</summary>
    Glm4,

    /// <summary>ChatGLM (<c>model_type</c> <c>chatglm</c>): chatglm3-6b and the original glm-4-9b-chat.</summary>
    ChatGlm,
}
