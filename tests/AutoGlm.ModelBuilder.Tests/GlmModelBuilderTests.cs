using AutoGlm.ModelBuilder.Safetensors;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class GlmModelBuilderTests
{
    [Fact]
    public void Build_TinyCheckpoint_WritesTheModelFolder()
    {
        string model = TestModels.Model(new ModelSpec(GlmArchitecture.Glm));
        string[] files = ["autoglm_config.json", "config.json", "genai_config.json", "generation_config.json", "model.onnx", "model.onnx.data", "tokenizer.json", "tokenizer_config.json"];
        Assert.Equal(files, Directory.GetFiles(model).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using JsonDocument genai = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "genai_config.json")));
        JsonElement decoder = genai.RootElement.GetProperty("model").GetProperty("decoder");
        Assert.Equal(32, decoder.GetProperty("head_size").GetInt32());
        Assert.Equal(2, decoder.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal("past_key_values.%d.key", decoder.GetProperty("inputs").GetProperty("past_key_names").GetString());
        Assert.Equal(64, genai.RootElement.GetProperty("model").GetProperty("context_length").GetInt32());
        Assert.Equal([1010, 1017, 1019], genai.RootElement.GetProperty("model").GetProperty("eos_token_id").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, new FileInfo(Path.Combine(model, "model.onnx.data")).Length % 4);

        // Only keys ONNX Runtime GenAI 0.18 accepts: a model.type it knows, no num_logits_to_keep input key (it feeds
        // that input by name itself), no extra top-level section. AutoGlm's own metadata sits in autoglm_config.json.
        Assert.Equal("decoder", genai.RootElement.GetProperty("model").GetProperty("type").GetString());
        Assert.False(decoder.GetProperty("inputs").TryGetProperty("num_logits_to_keep", out _));
        Assert.Equal(["model", "search"], genai.RootElement.EnumerateObject().Select(p => p.Name));
        using JsonDocument own = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "autoglm_config.json")));
        Assert.Equal("glm", own.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("fp32", own.RootElement.GetProperty("precision").GetString());
        Assert.Equal("float32", own.RootElement.GetProperty("kv_cache_type").GetString());
    }

    [Theory]
    [InlineData(GlmArchitecture.Glm, "decoder")]
    [InlineData(GlmArchitecture.Glm4, "decoder")]
    [InlineData(GlmArchitecture.ChatGlm, "chatglm")]
    public void Build_GenAiModelType_IsOneOnnxRuntimeGenAIAccepts(GlmArchitecture arch, string expected)
    {
        string model = TestModels.Model(new ModelSpec(arch));
        using JsonDocument genai = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "genai_config.json")));
        Assert.Equal(expected, genai.RootElement.GetProperty("model").GetProperty("type").GetString());
        using var runner = new OrtDecoderRunner(model);
        Assert.Equal([1L], runner.Session.Inputs.Single(i => i.Name == "num_logits_to_keep").Shape);
    }

    [Fact]
    public void Build_GraphInputsAndOutputs_FollowTheContract()
    {
        using var runner = new OrtDecoderRunner(TestModels.Model(new ModelSpec(GlmArchitecture.Glm4)));
        Assert.Equal(
            ["input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value", "num_logits_to_keep"],
            runner.Session.Inputs.Select(i => i.Name));
        Runtime.OrtNodeInfo past = runner.Session.Inputs[3];
        Assert.Equal([-1L, 2, -1, 32], past.Shape);
        Assert.Equal(["batch_size", "", "past_sequence_length", ""], past.SymbolicDims);
        Assert.Equal(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"], runner.Session.Outputs.Select(o => o.Name));
        Assert.Equal(Runtime.TensorElementType.Float, runner.Session.Outputs[0].ElementType);
    }

    [Fact]
    public void Build_Fp16_DeclaresHalfKvAndFloatLogits()
    {
        using var runner = new OrtDecoderRunner(TestModels.Model(new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Fp16)));
        Assert.Equal(Runtime.TensorElementType.Float16, runner.KvType);
        Assert.Equal(Runtime.TensorElementType.Float, runner.Session.Outputs[0].ElementType);
    }

    [Fact]
    public void Build_Int4_DataIsSmallerThanFp32()
    {
        long fp32 = new FileInfo(Path.Combine(TestModels.Model(new ModelSpec(GlmArchitecture.Glm)), "model.onnx.data")).Length;
        long int4 = new FileInfo(Path.Combine(TestModels.Model(new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Int4)), "model.onnx.data")).Length;
        Assert.True(int4 < fp32, $"int4 {int4} bytes, fp32 {fp32} bytes");
    }

    [Fact]
    public void Build_ReportsProgressUpToEveryTensor()
    {
        string checkpoint = TestModels.Checkpoint(new ModelSpec(GlmArchitecture.ChatGlm));
        var reports = new List<ModelBuildProgress>();
        GlmModelBuilder.Build(checkpoint, TestModels.NewPath("progress"), new ModelBuildOptions(), new SynchronousProgress(reports.Add), CancellationToken.None);
        ModelBuildProgress last = reports[^1];
        Assert.Equal(last.TensorsTotal, last.TensorsDone);
        Assert.Equal(last.BytesTotal, last.BytesRead);
        Assert.Equal(new FileInfo(Path.Combine(checkpoint, "model.safetensors")).Length, last.BytesTotal, tolerance: 4096);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.TensorsDone >= p.First.TensorsDone));
    }

    [Fact]
    public void Build_CancelledMidway_LeavesNothingBehind()
    {
        string checkpoint = TestModels.Checkpoint(new ModelSpec(GlmArchitecture.Glm));
        string output = TestModels.NewPath("cancelled");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.TensorsDone >= 5)
            {
                cts.Cancel();
            }
        });
        Assert.Throws<OperationCanceledException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), progress, cts.Token));
        AssertNothingLeft(output);
    }

    [Fact]
    public async Task BuildAsync_AlreadyCancelled_ThrowsAndLeavesNothing()
    {
        string output = TestModels.NewPath("cancelled-async");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GlmModelBuilder.BuildAsync(TestModels.Checkpoint(new ModelSpec(GlmArchitecture.Glm)), output, null, null, cts.Token));
        AssertNothingLeft(output);
    }

    [Fact]
    public async Task RandomCheckpointWriteAsync_CancelledDuringWeights_LeavesNothing()
    {
        string output = TestModels.NewPath("random-cancelled");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.TensorsDone == 3)
            {
                cts.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RandomCheckpoint.WriteAsync(new RandomCheckpointOptions(), output, progress, cts.Token));
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_MissingConfig_ThrowsAndLeavesNothing()
    {
        string checkpoint = CopyCheckpoint("noconfig");
        File.Delete(Path.Combine(checkpoint, "config.json"));
        string output = TestModels.NewPath("out");
        var ex = Assert.Throws<ModelLoadException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.Contains(Path.Combine(checkpoint, "config.json"), ex.Message);
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_UnsupportedModelType_ThrowsListingSupported()
    {
        string checkpoint = CopyCheckpoint("llama");
        EditConfig(checkpoint, c => c["model_type"] = "llama");
        string output = TestModels.NewPath("out");
        var ex = Assert.Throws<ModelLoadException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.Contains("model_type 'llama'", ex.Message);
        Assert.Contains("Supported: glm (GlmForCausalLM), glm4 (Glm4ForCausalLM), chatglm (ChatGLMModel)", ex.Message);
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_ConfigDisagreesWithTensors_ThrowsNamingTensorAndLeavesNothing()
    {
        string checkpoint = CopyCheckpoint("mismatch");
        EditConfig(checkpoint, c => c["intermediate_size"] = 200);
        string output = TestModels.NewPath("out");
        var ex = Assert.Throws<ModelLoadException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.Equal($"Tensor 'model.layers.0.mlp.gate_up_proj.weight' in '{Path.Combine(checkpoint, "model.safetensors")}' has shape [512, 128], but config.json implies [400, 128]. The checkpoint and its config.json do not match.", ex.Message);
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_TruncatedWeights_ThrowsNamingFileAndLeavesNothing()
    {
        string checkpoint = CopyCheckpoint("truncated");
        string weights = Path.Combine(checkpoint, "model.safetensors");
        using (var stream = new FileStream(weights, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        string output = TestModels.NewPath("out");
        var ex = Assert.Throws<ModelLoadException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.StartsWith($"Safetensors file '{weights}': tensor '", ex.Message);
        Assert.EndsWith("The file is truncated; re-download it.", ex.Message);
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_MissingTensor_ThrowsNamingIt()
    {
        string checkpoint = CopyCheckpoint("fewer-layers");
        EditConfig(checkpoint, c => c["num_hidden_layers"] = 3);
        string output = TestModels.NewPath("out");
        var ex = Assert.Throws<ModelLoadException>(() => GlmModelBuilder.Build(checkpoint, output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.StartsWith("Tensor 'model.layers.2.input_layernorm.weight' is missing from the checkpoint", ex.Message);
        AssertNothingLeft(output);
    }

    [Fact]
    public void Build_OutputFolderNotEmpty_RefusesWithoutTouchingIt()
    {
        string output = TestModels.NewPath("occupied");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
        var ex = Assert.Throws<IOException>(() => GlmModelBuilder.Build(TestModels.Checkpoint(new ModelSpec(GlmArchitecture.Glm)), output, new ModelBuildOptions(), null, CancellationToken.None));
        Assert.Equal($"The output folder '{output}' already exists and is not empty. Choose a new folder or delete it first.", ex.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
    }

    [Fact]
    public void Build_ShardedCheckpoint_GivesTheSameWeightsAsTheSingleFile()
    {
        var spec = new ModelSpec(GlmArchitecture.Glm);
        string single = TestModels.Checkpoint(spec);
        string sharded = TestModels.NewPath("ckpt-sharded");
        Directory.CreateDirectory(sharded);
        foreach (string f in Directory.GetFiles(single).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            File.Copy(f, Path.Combine(sharded, Path.GetFileName(f)));
        }

        var weightMap = new Dictionary<string, string>();
        using (SafetensorsCheckpoint source = SafetensorsCheckpoint.Open(single))
        {
            string[] names = source.Tensors.Keys.Order(StringComparer.Ordinal).ToArray();
            string[][] halves = [names[..(names.Length / 2)], names[(names.Length / 2)..]];
            for (int shard = 0; shard < 2; shard++)
            {
                string file = $"model-0000{shard + 1}-of-00002.safetensors";
                using var writer = new SafetensorsWriter(Path.Combine(sharded, file), halves[shard].Select(n => (n, SafetensorsDType.BF16, source.Get(n).Shape)).ToList());
                foreach (string name in halves[shard])
                {
                    writer.Append(source.ReadFloats(name));
                    weightMap[name] = file;
                }

                writer.Complete();
            }
        }

        File.WriteAllText(Path.Combine(sharded, SafetensorsCheckpoint.IndexFileName), JsonSerializer.Serialize(new { metadata = new { }, weight_map = weightMap }));
        string output = TestModels.NewPath("model-sharded");
        GlmModelBuilder.Build(sharded, output, new ModelBuildOptions(), null, CancellationToken.None);
        using var runner = new OrtDecoderRunner(output);
        (float[] logits, _) = runner.Step(runner.NewBatch(1), [[3, 14, 15, 92]]);
        var reference = new ReferenceGlmModel(sharded);
        double[] expected = reference.NewSequence().Feed([3, 14, 15, 92])[^1];
        Assert.True(LogitComparison.RelativeError(logits.AsSpan(3 * expected.Length, expected.Length), expected) < 1e-4);
    }

    private static void AssertNothingLeft(string output)
    {
        Assert.False(Directory.Exists(output), $"{output} exists");
        string name = Path.GetFileName(output);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(output)!, "." + name + ".partial-*"));
    }

    private static string CopyCheckpoint(string name)
    {
        string source = TestModels.Checkpoint(new ModelSpec(GlmArchitecture.Glm));
        string target = TestModels.NewPath("ckpt-" + name);
        Directory.CreateDirectory(target);
        foreach (string f in Directory.GetFiles(source))
        {
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }

        return target;
    }

    private static void EditConfig(string checkpoint, Action<JsonNode> edit)
    {
        string path = Path.Combine(checkpoint, "config.json");
        JsonNode config = JsonNode.Parse(File.ReadAllText(path))!;
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    private sealed class SynchronousProgress(Action<ModelBuildProgress> action) : IProgress<ModelBuildProgress>
    {
        public void Report(ModelBuildProgress value) => action(value);
    }

}
