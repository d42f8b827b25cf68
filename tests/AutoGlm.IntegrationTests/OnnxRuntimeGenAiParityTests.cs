using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// DESIGN.md decision 3: a folder written by the model builder loads unchanged in ONNX Runtime GenAI 0.18 (the peer a
/// user would otherwise pick), and its greedy tokens equal AutoGlm's. Both run in this process on one ONNX Runtime.
/// </summary>
public sealed class OnnxRuntimeGenAiParityTests : IDisposable
{
    private const int NewTokens = 24;
    private readonly string _root = Directory.CreateTempSubdirectory("autoglm-genai-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData(ModelPrecision.Fp32, GlmArchitecture.Glm)]
    [InlineData(ModelPrecision.Int4, GlmArchitecture.Glm)]
    [InlineData(ModelPrecision.Fp32, GlmArchitecture.Glm4)]
    public async Task GreedyTokens_OfAFreshlyBuiltFolder_EqualOnnxRuntimeGenAIs(ModelPrecision precision, GlmArchitecture architecture)
    {
        string checkpoint = Path.Combine(_root, "checkpoint");
        string folder = Path.Combine(_root, "model");
        await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Architecture = architecture, Seed = 7 }, checkpoint);
        await GlmModelBuilder.BuildAsync(checkpoint, folder, new ModelBuildOptions { Precision = precision });

        await using GlmModel model = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        int[] prompt = [.. model.Tokenizer.Encode("The quick brown fox jumps over the lazy dog. 你好")];
        Assert.DoesNotContain(model.Info.EosTokenIds[0], prompt); // ONNX Runtime GenAI masks pad (= eos[0]) tokens in prompts
        GenerationResult ours = await model.GenerateAsync(prompt, new GenerationOptions { Temperature = 0f, MaxNewTokens = NewTokens });

        int[] theirs = GenerateWithOnnxRuntimeGenAi(folder, prompt, prompt.Length + NewTokens);

        Assert.Equal(prompt, theirs[..prompt.Length]);
        int[] ourTokens = [.. ours.Tokens.Select(t => t.Id)];
        Assert.Equal(ourTokens, theirs[prompt.Length..(prompt.Length + ourTokens.Length)]);
        Assert.True(ourTokens.Length >= 4, $"only {ourTokens.Length} tokens were generated; the comparison would say little");
    }

    private static int[] GenerateWithOnnxRuntimeGenAi(string folder, int[] prompt, int maxLength)
    {
        using var model = new Model(folder);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
        }

        return generator.GetSequence(0).ToArray();
    }
}
