using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGlm.Generation;
using Json.Schema;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// Constrained decoding on the tiny random-weight model: sampled with temperature, every answer that stops is valid
/// for its JSON schema by JsonSchema.Net (not AutoGlm's engine), and unconstrained greedy requests sharing the batch
/// keep the tokens of their solo runs.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ConstrainedGenerationTests(TinyModelFixture fixture)
{
    private static readonly string[] s_schemas =
    [
        """{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},"color":{"enum":["red","green","blue"]}},"required":["name","age","color"],"additionalProperties":false}""",
        """{"$defs":{"p":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"],"additionalProperties":false}},"type":"array","items":{"$ref":"#/$defs/p"},"minItems":1,"maxItems":3}""",
        """{"type":"object","properties":{"ok":{"type":"boolean"},"note":{"type":["string","null"]},"tags":{"type":"array","items":{"type":"string","minLength":1,"maxLength":4},"maxItems":2}},"required":["ok","tags"]}""",
        """{"oneOf":[{"type":"integer"},{"type":"string","minLength":2,"maxLength":5},{"type":"null"}]}""",
        """{"anyOf":[{"type":"object","properties":{"kind":{"const":"a"},"v":{"type":"integer"}},"required":["kind","v"],"additionalProperties":false},{"type":"array","items":{"type":"boolean"},"maxItems":3}]}""",
        """{"type":"object","properties":{"inner":{"type":"object","properties":{"deep":{"type":"object","properties":{"z":{"type":"string"}},"required":["z"]}},"required":["deep"]}},"required":["inner"]}""",
        """{"type":"object"}""",
        """{"type":"string","enum":["alpha","beta","gamma"]}""",
    ];

    [Fact]
    public async Task JsonSchema_208SeededSampledRuns_EveryStoppedAnswerValidates_AndGreedyNeighboursKeepTheirTokens()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 8, WarmUp = false });
        string[] freePrompts = ["The quick brown fox", "你好，世界", "1 2 3"];
        var greedy = new GenerationOptions { Temperature = 0f, MaxNewTokens = 24, IgnoreEos = true };
        var solo = new List<int[]>();
        foreach (string prompt in freePrompts)
        {
            solo.Add([.. (await model.GenerateAsync(prompt, greedy)).Tokens.Select(t => t.Id)]);
        }

        GenerationConstraint[] constraints = [.. s_schemas.Select(s => GenerationConstraint.FromJsonSchema(JsonDocument.Parse(s).RootElement))];
        JsonSchema[] validators = [.. s_schemas.Select(s => JsonSchema.FromText(s))];
        const int Runs = 208;
        int stopped = 0;
        for (int wave = 0; wave < Runs; wave += 26)
        {
            var tasks = new List<Task<(int Index, GenerationResult Result)>>();
            for (int run = wave; run < wave + 26; run++)
            {
                int index = run;
                var options = new GenerationOptions
                {
                    Temperature = 1.5f,
                    TopK = 50,
                    Seed = index,
                    MaxNewTokens = 48,
                    Constraint = constraints[index % constraints.Length],
                };
                tasks.Add(Task.Run(async () => (index, await model.GenerateAsync($"Answer in JSON #{index}", options))));
            }

            Task<GenerationResult>[] free = [.. freePrompts.Select(p => model.GenerateAsync(p, greedy))];
            foreach ((int index, GenerationResult result) in await Task.WhenAll(tasks))
            {
                if (result.FinishReason != FinishReason.Stop)
                {
                    continue;
                }

                stopped++;
                JsonNode? node = JsonNode.Parse(result.Text);
                Assert.True(validators[index % validators.Length].Evaluate(node).IsValid, $"run {index}: '{result.Text}' does not validate against {s_schemas[index % s_schemas.Length]}");
            }

            GenerationResult[] freeResults = await Task.WhenAll(free);
            for (int i = 0; i < freePrompts.Length; i++)
            {
                Assert.Equal(solo[i], freeResults[i].Tokens.Select(t => t.Id));
            }
        }

        // The length guarantee makes every constrained answer finish with a complete value.
        Assert.Equal(Runs, stopped);
    }

    [Fact]
    public async Task Generate_SchemaLongerThanMaxTokens_FailsBeforeGenerating()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        GenerationConstraint constraint = GenerationConstraint.FromJsonSchema(JsonDocument.Parse("""{"type":"array","items":{"type":"string","minLength":5},"minItems":4}""").RootElement);
        long steps = model.StepCount;

        GrammarException error = await Assert.ThrowsAsync<GrammarException>(() => model.GenerateAsync("hi", new GenerationOptions { MaxNewTokens = 20, Constraint = constraint }));

        Assert.Equal("maxTokens", error.Keyword);
        Assert.Contains($"needs at least {constraint.MinimumTokens} new tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("may generate only 20", error.Message, StringComparison.Ordinal);
        Assert.Equal(steps, model.StepCount);
    }

    [Fact]
    public async Task Generate_ConstraintWithStopSequences_IsRejected()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => model.GenerateAsync("hi", new GenerationOptions { StopSequences = ["}"], Constraint = GenerationConstraint.JsonObject }));
        Assert.Contains("cannot be combined with StopSequences", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_LogProbabilities_AreLogSoftmaxOfTheRawRowAndSorted()
    {
        await using GlmModel model = GlmModel.Load(fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        GenerationResult result = await model.GenerateAsync("Hello", new GenerationOptions { Temperature = 0f, MaxNewTokens = 4, IgnoreEos = true, TopLogProbabilities = 3 });
        foreach (GeneratedToken token in result.Tokens)
        {
            Assert.NotNull(token.LogProbability);
            Assert.Equal(3, token.TopLogProbabilities!.Count);

            // Greedy picks the most likely token, which is the first of the top list.
            Assert.Equal(token.Id, token.TopLogProbabilities[0].Id);
            Assert.Equal(token.LogProbability!.Value, token.TopLogProbabilities[0].LogProbability, 5);
            Assert.True(token.TopLogProbabilities[0].LogProbability >= token.TopLogProbabilities[1].LogProbability);
            Assert.True(token.TopLogProbabilities[1].LogProbability >= token.TopLogProbabilities[2].LogProbability);
            Assert.True(token.LogProbability <= 0f);
        }

        GenerationResult plain = await model.GenerateAsync("Hello", new GenerationOptions { Temperature = 0f, MaxNewTokens = 4, IgnoreEos = true });
        Assert.All(plain.Tokens, t => Assert.Null(t.LogProbability));
        Assert.Equal(plain.Tokens.Select(t => t.Id), result.Tokens.Select(t => t.Id));
    }
}
