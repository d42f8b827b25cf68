using System.Text.Json;
using AutoGlm.ModelBuilder.Checkpoints;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class GlmConfigReaderTests
{
    [Fact]
    public void Parse_ChatGlm_UsesRopeRatioTimesTenThousandAndLayernormEpsilon()
    {
        GlmConfig c = Parse("""
            {"model_type": "chatglm", "hidden_size": 4096, "num_attention_heads": 32, "kv_channels": 128,
             "multi_query_attention": true, "multi_query_group_num": 2, "ffn_hidden_size": 13696, "num_layers": 40,
             "padded_vocab_size": 151552, "seq_length": 131072, "layernorm_epsilon": 1.5625e-07, "rope_ratio": 500,
             "add_qkv_bias": true, "eos_token_id": [151329, 151336, 151338], "pad_token_id": 151329}
            """);
        Assert.Equal(GlmArchitecture.ChatGlm, c.Architecture);
        Assert.Equal(5_000_000.0, c.RopeTheta);
        Assert.Equal(1.5625e-07, c.RmsNormEps);
        Assert.Equal(2, c.NumKvHeads);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(64, c.RotaryDim);
        Assert.Equal(151552, c.VocabSize);
        Assert.Equal(131072, c.MaxPositions);
        Assert.True(c.QkvBias);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal([151329, 151336, 151338], c.EosTokenIds);
    }

    [Fact]
    public void Parse_GlmWithRopeParameters_ReadsFactorAndThetaFromThere()
    {
        GlmConfig c = Parse("""
            {"model_type": "glm", "hidden_size": 2048, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": 128,
             "intermediate_size": 6144, "num_hidden_layers": 28, "vocab_size": 59264, "rms_norm_eps": 1e-05,
             "rope_parameters": {"rope_theta": 10000.0, "partial_rotary_factor": 1.0}, "tie_word_embeddings": true,
             "attention_bias": false, "eos_token_id": 59246}
            """);
        Assert.Equal(GlmArchitecture.Glm, c.Architecture);
        Assert.Equal(128, c.RotaryDim);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.False(c.QkvBias);
        Assert.Equal([59246], c.EosTokenIds);
    }

    [Fact]
    public void Parse_Glm4WithoutFactor_DefaultsToHalfRotary()
    {
        GlmConfig c = Parse("""
            {"model_type": "glm4", "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128,
             "intermediate_size": 13696, "num_hidden_layers": 40, "vocab_size": 151552, "rope_theta": 10000, "attention_bias": true}
            """);
        Assert.Equal(GlmArchitecture.Glm4, c.Architecture);
        Assert.Equal(64, c.RotaryDim);
    }

    [Fact]
    public void Parse_UnknownModelType_ListsSupportedOnes()
    {
        var ex = Assert.Throws<ModelLoadException>(() => Parse("""{"model_type": "llama", "hidden_size": 8}"""));
        Assert.Equal("Config file 'config.json' has model_type 'llama', which the builder cannot convert. Supported: glm (GlmForCausalLM), glm4 (Glm4ForCausalLM), chatglm (ChatGLMModel).", ex.Message);
    }

    [Fact]
    public void Parse_MissingField_NamesIt()
    {
        var ex = Assert.Throws<ModelLoadException>(() => Parse("""{"model_type": "glm", "hidden_size": 64, "num_attention_heads": 2}"""));
        Assert.Equal("Config file 'config.json' has no 'vocab_size'; it is needed to convert the model.", ex.Message);
    }

    [Fact]
    public void Read_MissingFile_NamesThePath()
    {
        string path = Path.Combine(TestModels.NewPath("noconfig"), "config.json");
        var ex = Assert.Throws<ModelLoadException>(() => GlmConfigReader.Read(path));
        Assert.Equal($"The checkpoint has no config file '{path}'. A Hugging Face checkpoint folder needs config.json next to its safetensors files.", ex.Message);
    }

    private static GlmConfig Parse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return GlmConfigReader.Parse(doc.RootElement, "config.json");
    }
}
