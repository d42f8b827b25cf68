using AutoGlm.Generation;
using AutoGlm.Runtime;

namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class GlmModelTests
{
    private static readonly GenerationOptions s_greedy = new() { Temperature = 0f, MaxNewTokens = 12, IgnoreEos = true };
    private readonly TinyModelFixture _fixture;

    public GlmModelTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Theory]
    [InlineData(WeightLoading.Packed)]
    [InlineData(WeightLoading.Mapped)]
    public async Task GenerateAsync_Greedy_MatchesFullRecomputeWithoutKvCache(WeightLoading weightLoading)
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { WeightLoading = weightLoading });
        Assert.Equal(weightLoading, model.WeightLoading);
        IReadOnlyList<int> prompt = model.Tokenizer.Encode("Hello, world! 你好");

        GenerationResult result = await model.GenerateAsync(prompt, s_greedy);

        int[] expected = RecomputeGreedy(prompt, s_greedy.MaxNewTokens);
        Assert.Equal(expected, result.Tokens.Select(t => t.Id));
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(prompt.Count, result.Usage.PromptTokens);
        Assert.Equal(12, result.Usage.CompletionTokens);
        Assert.Equal(string.Concat(expected.Where(id => model.Tokenizer.IdToToken(id) is not null).Select(id => model.Tokenizer.Decode([id], skipSpecialTokens: true))), result.Text);
    }

    [Fact]
    public async Task GenerateAsync_PrefixReuseOverFiveTurns_MatchesColdRuns()
    {
        await using GlmModel warm = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { PrefixReuse = true, MaxBatchSize = 2, PrefillChunkTokens = 7, WarmUp = false });
        await using GlmModel cold = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 2, PrefillChunkTokens = 7 });
        var history = new List<int>(warm.Tokenizer.Encode("System: be brief."));
        for (int turn = 0; turn < 5; turn++)
        {
            history.AddRange(warm.Tokenizer.Encode($" User turn {turn}: tell me more."));
            GenerationResult reused = await warm.GenerateAsync(history, s_greedy);
            GenerationResult recomputed = await cold.GenerateAsync(history, s_greedy);

            Assert.Equal(recomputed.Tokens.Select(t => t.Id), reused.Tokens.Select(t => t.Id));
            history.AddRange(reused.Tokens.Select(t => t.Id));
        }

        // The last turn's KV stays parked (prompt and answer but its last token) until something needs the room.
        Assert.Equal(history.Count - 1, warm.KvTokensInUse);
        Assert.True(warm.KvBytesAllocated > 0);
        Assert.Equal(0, cold.KvBytesResident);
    }

    [Fact]
    public async Task GenerateAsync_EightConcurrentRequests_EachMatchesItsSoloRun()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4, PrefillChunkTokens = 5 });
        string[] prompts =
        [
            "a", "The quick brown fox", "你好，世界", "1 2 3 4 5 6 7 8 9 10 11 12",
            "emoji 😀 test", "short", "A longer prompt that spans more tokens than the chunk size allows", "x y",
        ];
        var options = prompts.Select((_, i) => new GenerationOptions { Temperature = 0f, MaxNewTokens = 3 + (i * 2), IgnoreEos = true }).ToArray();

        var solo = new List<int[]>();
        for (int i = 0; i < prompts.Length; i++)
        {
            GenerationResult r = await model.GenerateAsync(prompts[i], options[i]);
            solo.Add(r.Tokens.Select(t => t.Id).ToArray());
        }

        Task<GenerationResult>[] concurrent = prompts.Select(async (p, i) =>
        {
            await Task.Delay(i * 3);
            return await model.GenerateAsync(p, options[i]);
        }).ToArray();
        GenerationResult[] results = await Task.WhenAll(concurrent);

        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(solo[i], results[i].Tokens.Select(t => t.Id).ToArray());
        }

        Assert.Equal(0, model.KvTokensInUse);
        Assert.Equal(0, model.KvBytesResident);
    }

    [Fact]
    public async Task GenerateAsync_RequestFillingTheWholeContextBesideAnother_MatchesItsSoloRun()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath);
        int context = model.MaxSequenceLength;
        int[] longPrompt = Enumerable.Range(0, context - 6).Select(i => 10 + (i % 200)).ToArray();
        var fill = new GenerationOptions { Temperature = 0f, MaxNewTokens = 6, IgnoreEos = true };
        var other = new GenerationOptions { Temperature = 0f, MaxNewTokens = 20, IgnoreEos = true };
        int[] soloLong = (await model.GenerateAsync(longPrompt, fill)).Tokens.Select(t => t.Id).ToArray();
        int[] soloShort = (await model.GenerateAsync("short one", other)).Tokens.Select(t => t.Id).ToArray();

        Task<GenerationResult> shortRun = model.GenerateAsync("short one", other);
        Task<GenerationResult> longRun = model.GenerateAsync(longPrompt, fill);

        Assert.Equal(soloLong, (await longRun).Tokens.Select(t => t.Id).ToArray());
        Assert.Equal(soloShort, (await shortRun).Tokens.Select(t => t.Id).ToArray());
    }

    [Fact]
    public async Task GenerateAsync_PromptLongerThanContext_ThrowsStatingBothLengths()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { WarmUp = false });
        int[] prompt = Enumerable.Repeat(5, model.MaxSequenceLength + 10).ToArray();

        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => model.GenerateAsync(prompt));

        Assert.Contains((model.MaxSequenceLength + 10).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Contains(model.MaxSequenceLength.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFolder_ThrowsModelLoadExceptionNamingIt()
    {
        string path = Path.Combine(_fixture.Root, "nope");

        var ex = Assert.Throws<ModelLoadException>(() => GlmModel.Load(path));

        Assert.Contains($"The model folder '{path}' does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FolderWithoutGenAiConfig_ThrowsNamingTheFile()
    {
        string copy = CopyModel("no-genai");
        File.Delete(Path.Combine(copy, "genai_config.json"));

        var ex = Assert.Throws<ModelLoadException>(() => GlmModel.Load(copy));

        Assert.Equal($"The model folder '{copy}' has no genai_config.json. Rebuild it with 'autoglm build'.", ex.Message);
    }

    [Fact]
    public void Load_GenAiConfigWithBadField_ThrowsNamingFileAndField()
    {
        string copy = CopyModel("bad-field");
        string config = Path.Combine(copy, "genai_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": -2", StringComparison.Ordinal));

        var ex = Assert.Throws<ModelLoadException>(() => GlmModel.Load(copy));

        Assert.Equal($"{config}: the field 'model.decoder.num_key_value_heads' must be a positive integer of at most 1024, not -2. The file is damaged or hand-edited; rebuild the folder with 'autoglm build'.", ex.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public async Task GenerateAsync_WithOrWithoutSpinningStop_GivesTheSameGreedyTokens(string forceSpinningStop)
    {
        // AutoGlm sets session.force_spinning_stop=1; an entry of OnnxRuntimeSessionConfig overrides it. Neither changes results.
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions
        {
            OnnxRuntimeSessionConfig = new Dictionary<string, string> { ["session.force_spinning_stop"] = forceSpinningStop },
            WarmUp = false,
        });
        IReadOnlyList<int> prompt = model.Tokenizer.Encode("Hello, world! 你好");

        GenerationResult result = await model.GenerateAsync(prompt, s_greedy);

        Assert.Equal(RecomputeGreedy(prompt, s_greedy.MaxNewTokens), result.Tokens.Select(t => t.Id));
    }

    [Fact]
    public void Load_SessionConfigOnnxRuntimeRejects_ThrowsModelLoadExceptionWithOrtsReason()
    {
        // The entries reach ONNX Runtime: one it cannot parse fails the load with its own reason, not a crash.
        var options = new GlmModelOptions
        {
            IntraOpThreads = 2,
            OnnxRuntimeSessionConfig = new Dictionary<string, string> { ["session.intra_op_thread_affinities"] = "not an affinity" },
            WarmUp = false,
        };

        var ex = Assert.ThrowsAny<AutoGlmException>(() => GlmModel.Load(_fixture.ModelPath, options));

        Assert.Contains("affinit", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_TruncatedWeights_ThrowsModelLoadException()
    {
        string copy = CopyModel("truncated");
        string weights = Path.Combine(copy, "model.onnx.data");
        using (var stream = new FileStream(weights, FileMode.Open))
        {
            stream.SetLength(stream.Length / 3);
        }

        var ex = Assert.Throws<ModelLoadException>(() => GlmModel.Load(copy));

        Assert.Contains(Path.Combine(copy, "model.onnx"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_WhileEightRequestsStream_EndsThemAllWithoutHanging()
    {
        GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 8 });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int streaming = 0;
        Task[] readers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await foreach (GeneratedToken _ in model.GenerateStreamingAsync("stream " + i, new GenerationOptions { MaxNewTokens = 200, IgnoreEos = true }))
            {
                if (Interlocked.Increment(ref streaming) == 8)
                {
                    started.TrySetResult();
                }
            }
        })).ToArray();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        await model.DisposeAsync();

        foreach (Task reader in readers)
        {
            Exception? ex = await Record.ExceptionAsync(() => reader.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(ex is ObjectDisposedException or OperationCanceledException, $"expected disposal or cancellation, got {ex?.GetType().Name ?? "completion"}: {ex?.Message}");
        }
    }

    private string CopyModel(string name)
    {
        string copy = Path.Combine(_fixture.Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(_fixture.ModelPath))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    /// <summary>Greedy decoding the slow way: every step runs the whole sequence with an empty cache.</summary>
    private int[] RecomputeGreedy(IReadOnlyList<int> prompt, int steps)
    {
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        var tokens = prompt.ToList();
        var generated = new List<int>();
        int layers = session.Inputs.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal) && i.Name.EndsWith(".key", StringComparison.Ordinal));
        OrtNodeInfo pastKey = session.Inputs.First(i => i.Name == "past_key_values.0.key");
        for (int step = 0; step < steps; step++)
        {
            int n = tokens.Count;
            var inputs = new Dictionary<string, HostTensor>
            {
                ["input_ids"] = HostTensor.Create(tokens.Select(t => (long)t).ToArray(), 1, n),
                ["attention_mask"] = HostTensor.Create(Enumerable.Repeat(1L, n).ToArray(), 1, n),
                ["position_ids"] = HostTensor.Create(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), 1, n),
                ["num_logits_to_keep"] = HostTensor.Create(new long[] { 1 }, 1),
            };
            for (int layer = 0; layer < layers; layer++)
            {
                inputs[$"past_key_values.{layer}.key"] = HostTensor.Create(Array.Empty<float>(), 1, pastKey.Shape[1], 0, pastKey.Shape[3]);
                inputs[$"past_key_values.{layer}.value"] = HostTensor.Create(Array.Empty<float>(), 1, pastKey.Shape[1], 0, pastKey.Shape[3]);
            }

            float[] logits = session.Run(inputs, ["logits"])["logits"].As<float>();
            int best = 0;
            for (int v = 1; v < logits.Length; v++)
            {
                if (logits[v] > logits[best])
                {
                    best = v;
                }
            }

            generated.Add(best);
            tokens.Add(best);
        }

        return generated.ToArray();
    }
}
