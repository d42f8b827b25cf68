using System.Text.Json;
using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.ModelBuilder.Random;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class RandomCheckpointTests
{
    [Fact]
    public async Task WriteAsync_SameSeedTwice_GivesByteIdenticalFiles()
    {
        string a = TestModels.NewPath("rand-a"), b = TestModels.NewPath("rand-b"), c = TestModels.NewPath("rand-c");
        await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, a);
        await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, b);
        await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 2 }, c);
        string[] files = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
        Assert.Equal(files, Directory.GetFiles(a).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string f in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(c, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "tokenizer.json")), File.ReadAllBytes(Path.Combine(c, "tokenizer.json")));
    }

    [Theory]
    [InlineData("glm", "glm", new[] { 586, 593, 595 })]
    [InlineData("glm4", "glm4", new[] { 586, 593, 595 })]
    [InlineData("chatglm", "chatglm", new[] { 2, 597, 599 })]
    public void ResolveConfig_WrittenConfig_ReadsBackTheSameShapes(string arch, string modelType, int[] eos)
    {
        GlmArchitecture architecture = arch switch { "glm" => GlmArchitecture.Glm, "glm4" => GlmArchitecture.Glm4, _ => GlmArchitecture.ChatGlm };
        string dir = TestModels.NewPath("rand-" + arch);
        var options = new RandomCheckpointOptions { Preset = "tiny", Architecture = architecture, Layers = 3, VocabSize = 600 };
        RandomCheckpoint.Write(options, dir, CancellationToken.None);
        GlmConfig read = GlmConfigReader.Read(Path.Combine(dir, "config.json"));
        GlmConfig expected = RandomCheckpoint.ResolveConfig(options);
        Assert.Equal(modelType, read.ModelType);
        Assert.Equal(expected with { EosTokenIds = [] }, read with { EosTokenIds = [] });
        Assert.Equal(expected.EosTokenIds, read.EosTokenIds);
        Assert.Equal(eos, read.EosTokenIds);
    }

    [Fact]
    public async Task BuildRandomAsync_TinyPreset_WritesALoadableModelFolder()
    {
        string output = TestModels.NewPath("random-model");

        await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 3 }, output);

        foreach (string file in new[] { "model.onnx", "model.onnx.data", "genai_config.json", "tokenizer.json", "tokenizer_config.json", "config.json" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} missing");
        }

        using AutoGlm.Runtime.OrtSession session = AutoGlm.Runtime.OrtSession.Create(Path.Combine(output, "model.onnx"));
        Assert.Contains(session.Inputs, i => i.Name == "past_key_values.1.value");
    }

    [Fact]
    public void SmallPreset_HasAboutOneHundredMillionParameters()
    {
        GlmConfig c = RandomCheckpoint.ResolveConfig(new RandomCheckpointOptions { Preset = "small" });
        long parameters = RandomCheckpoint.TensorList(c).Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y));
        Assert.InRange(parameters, 90_000_000, 110_000_000);
    }

    [Fact]
    public void Glm49bPreset_PlacesSpecialTokensAtGlm4Ids()
    {
        GlmConfig c = RandomCheckpoint.ResolveConfig(new RandomCheckpointOptions { Preset = "glm-4-9b", Architecture = GlmArchitecture.ChatGlm });
        Assert.Equal([151329, 151336, 151338], c.EosTokenIds);
        Assert.Equal(5_000_000.0, c.RopeTheta);
        Assert.Equal(64, c.RotaryDim);
    }

    [Fact]
    public void GlmEdgePreset_UsesGlmEdgeShapesAndEosIds()
    {
        GlmConfig c = RandomCheckpoint.ResolveConfig(new RandomCheckpointOptions { Preset = "glm-edge-1.5b" });
        Assert.Equal([59246, 59253, 59255], c.EosTokenIds);
        Assert.Equal((2048, 6144, 28, 16, 4, 128, 59264, true, false), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize, c.TieWordEmbeddings, c.QkvBias));
    }

    [Fact]
    public void ResolveConfig_UnknownPreset_ListsKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => RandomCheckpoint.ResolveConfig(new RandomCheckpointOptions { Preset = "huge" }));
        Assert.StartsWith("Unknown preset 'huge'. Known presets: tiny, small, glm-edge-1.5b, glm-edge-4b, glm-4-9b.", ex.Message);
    }

    [Fact]
    public void Train_BuiltInCorpus_LearnsMergesAndKeepsSpecialTokensAtTheEnd()
    {
        TrainedBpeTokenizer t = BpeTokenizerTrainer.Train(BuiltInCorpus.Text, 1024, CancellationToken.None);
        Assert.Equal(256 + t.Merges.Count, t.Vocab.Count);
        Assert.True(t.Merges.Count > 200, $"only {t.Merges.Count} merges");
        Assert.Equal(Enumerable.Range(1010, 14), t.SpecialIds);
        Assert.Equal("<|endoftext|>", t.SpecialTokens[0]);
        // "Ġt" + "he" style merges: the space byte maps to 'Ġ' (U+0120) in the byte-level alphabet.
        Assert.Equal('Ġ', BpeTokenizerTrainer.ByteToChar[' ']);
        Assert.Contains(t.Vocab, v => v == "Ġthe");
        Assert.Equal(t.Vocab.Count, t.Vocab.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void WriteAsync_TokenizerFiles_AreValidHuggingFaceJsonWithChatTemplate()
    {
        string dir = TestModels.NewPath("rand-tok");
        RandomCheckpoint.Write(new RandomCheckpointOptions(), dir, CancellationToken.None);
        using JsonDocument tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")));
        Assert.Equal("BPE", tokenizer.RootElement.GetProperty("model").GetProperty("type").GetString());
        Assert.Equal(14, tokenizer.RootElement.GetProperty("added_tokens").GetArrayLength());
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")));
        Assert.StartsWith("[gMASK]<sop>{% for message in messages %}", config.RootElement.GetProperty("chat_template").GetString());
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("added_tokens_decoder").GetProperty("1010").GetProperty("content").GetString());
    }

    [Fact]
    public void TrainedTokenizer_LoadsInTheRuntimeTokenizer_AndRoundTripsText()
    {
        string dir = TestModels.Checkpoint(new ModelSpec(GlmArchitecture.Glm));
        AutoGlm.Tokenization.Tokenizer tokenizer = AutoGlm.Tokenization.Tokenizer.Load(dir);
        const string Text = "Hello, world! 你好，世界 The model reads tokens.";
        IReadOnlyList<int> ids = tokenizer.Encode(Text);
        Assert.True(ids.Count < System.Text.Encoding.UTF8.GetByteCount(Text), $"{ids.Count} ids: merges were not applied");
        Assert.Equal(Text, tokenizer.Decode(ids.ToArray()));
        Assert.Equal([1012, 1014, 1017], tokenizer.Encode("[gMASK]<sop><|user|>"));
    }
}
