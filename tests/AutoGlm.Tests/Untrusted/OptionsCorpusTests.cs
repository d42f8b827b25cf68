using AutoGlm.Chat;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// A corpus of out-of-range options: every number of GlmModelOptions, GenerationOptions and TemplateLimits below its
/// minimum, above its sane maximum, NaN or infinite. Each is an ArgumentException naming the option and quoting the value.
/// </summary>
public sealed class OptionsCorpusTests
{
    public static TheoryData<string, int> ModelOptionInts()
    {
        var data = new TheoryData<string, int>();
        foreach ((string name, int[] values) in new (string, int[])[]
        {
            (nameof(GlmModelOptions.IntraOpThreads), [-1, int.MinValue, (4 * Environment.ProcessorCount) + 1, 300, 100_000, int.MaxValue]),
            (nameof(GlmModelOptions.MaxBatchSize), [0, -1, 257, 100_000, int.MaxValue]),
            (nameof(GlmModelOptions.QueueCapacity), [0, -5, 1_000_001, int.MaxValue]),
            (nameof(GlmModelOptions.PrefillChunkTokens), [0, -1, 65_537, int.MaxValue]),
            (nameof(GlmModelOptions.MaxSequenceLength), [0, -1, 16_777_217, int.MaxValue]),
            (nameof(GlmModelOptions.KvBudgetTokens), [0, -1, 16_777_217, int.MaxValue]),
        })
        {
            foreach (int value in values)
            {
                data.Add(name, value);
            }
        }

        return data;
    }

    public static TheoryData<string, float> GenerationFloats()
    {
        var data = new TheoryData<string, float>();
        float[] nonFinite = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        foreach ((string name, float[] values) in new (string, float[])[]
        {
            (nameof(GenerationOptions.Temperature), [-0.5f, 1e-9f, 1e-5f, 101f, float.MaxValue, float.Epsilon]),
            (nameof(GenerationOptions.TopP), [0f, -0f, -1f, 1.0001f, float.Epsilon * -1]),
            (nameof(GenerationOptions.MinP), [-0.001f, 1.001f, 2f]),
            (nameof(GenerationOptions.RepetitionPenalty), [0f, -1f, 1e-9f, 101f, float.MaxValue]),
            (nameof(GenerationOptions.FrequencyPenalty), [-2.001f, 2.001f, float.MaxValue]),
            (nameof(GenerationOptions.PresencePenalty), [-2.001f, 2.001f, float.MinValue]),
        })
        {
            foreach (float value in values.Concat(nonFinite))
            {
                data.Add(name, value);
            }
        }

        return data;
    }

    public static TheoryData<string, int> GenerationInts => new()
    {
        { nameof(GenerationOptions.MaxNewTokens), 0 },
        { nameof(GenerationOptions.MaxNewTokens), -1 },
        { nameof(GenerationOptions.MaxNewTokens), 16_777_217 },
        { nameof(GenerationOptions.MaxNewTokens), int.MaxValue },
        { nameof(GenerationOptions.TopK), -1 },
        { nameof(GenerationOptions.TopK), 4_194_305 },
        { nameof(GenerationOptions.TopK), int.MaxValue },
        { nameof(GenerationOptions.StopTokenIds), -1 },
        { nameof(GenerationOptions.StopTokenIds), 4_194_304 },
        { nameof(GenerationOptions.StopTokenIds), int.MaxValue },
    };

    public static TheoryData<string, int> TemplateLimitInts => new()
    {
        { nameof(TemplateLimits.MaxNestingDepth), 0 },
        { nameof(TemplateLimits.MaxNestingDepth), -1 },
        { nameof(TemplateLimits.MaxNestingDepth), 10_001 },
        { nameof(TemplateLimits.MaxMacroCallDepth), 0 },
        { nameof(TemplateLimits.MaxMacroCallDepth), 10_001 },
        { nameof(TemplateLimits.MaxLoopIterations), 0 },
        { nameof(TemplateLimits.MaxLoopIterations), int.MinValue },
        { nameof(TemplateLimits.MaxOutputLength), 0 },
        { nameof(TemplateLimits.MaxOutputLength), (1 << 29) + 1 },
        { nameof(TemplateLimits.MaxOutputLength), int.MaxValue },
    };

    [Theory]
    [MemberData(nameof(ModelOptionInts))]
    public void GlmModelOptions_OutOfRange_ValidateNamesOptionAndValue(string name, int value)
    {
        GlmModelOptions options = name switch
        {
            nameof(GlmModelOptions.IntraOpThreads) => new() { IntraOpThreads = value },
            nameof(GlmModelOptions.MaxBatchSize) => new() { MaxBatchSize = value },
            nameof(GlmModelOptions.QueueCapacity) => new() { QueueCapacity = value },
            nameof(GlmModelOptions.PrefillChunkTokens) => new() { PrefillChunkTokens = value },
            nameof(GlmModelOptions.MaxSequenceLength) => new() { MaxSequenceLength = value },
            _ => new() { KvBudgetTokens = value },
        };

        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(name, e.ParamName);
        Assert.Contains($"GlmModelOptions.{name} must be between ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"got {value}.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "1", "a key is empty")]
    [InlineData("   ", "1", "a key is empty")]
    [InlineData("long", "1", "ONNX Runtime allows at most 128")]
    [InlineData("session.intra_op.allow_spinning", "long", "ONNX Runtime allows at most 1024")]
    [InlineData("session.intra_op.allow_spinning", null, "the value of 'session.intra_op.allow_spinning' is null")]
    public void GlmModelOptions_BadSessionConfigEntry_ValidateNamesTheEntry(string key, string? value, string expected)
    {
        key = key == "long" ? "session." + new string('k', 130) : key;
        value = value == "long" ? new string('v', 1025) : value;
        var options = new GlmModelOptions { OnnxRuntimeSessionConfig = new Dictionary<string, string> { [key] = value! } };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(GlmModelOptions.OnnxRuntimeSessionConfig), e.ParamName);
        Assert.StartsWith("GlmModelOptions.OnnxRuntimeSessionConfig: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GlmModelOptions_WellFormedSessionConfig_Validates()
    {
        var options = new GlmModelOptions
        {
            OnnxRuntimeSessionConfig = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0", ["session.dynamic_block_base"] = "4" },
        };

        options.Validate();
    }

    [Theory]
    [MemberData(nameof(GenerationFloats))]
    public void GenerationOptions_FloatOutOfRange_NamesOptionAndValue(string name, float value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => name switch
        {
            nameof(GenerationOptions.Temperature) => new GenerationOptions { Temperature = value },
            nameof(GenerationOptions.TopP) => new GenerationOptions { TopP = value },
            nameof(GenerationOptions.MinP) => new GenerationOptions { MinP = value },
            nameof(GenerationOptions.RepetitionPenalty) => new GenerationOptions { RepetitionPenalty = value },
            nameof(GenerationOptions.FrequencyPenalty) => new GenerationOptions { FrequencyPenalty = value },
            _ => new GenerationOptions { PresencePenalty = value },
        });

        Assert.Equal(name, e.ParamName);
        Assert.Contains($"GenerationOptions.{name} ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"got {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GenerationInts))]
    public void GenerationOptions_IntOutOfRange_NamesOptionAndValue(string name, int value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => name switch
        {
            nameof(GenerationOptions.MaxNewTokens) => new GenerationOptions { MaxNewTokens = value },
            nameof(GenerationOptions.TopK) => new GenerationOptions { TopK = value },
            _ => new GenerationOptions { StopTokenIds = [1, value] },
        });

        Assert.Equal(name, e.ParamName);
        Assert.Contains($"got {value}.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerationOptions_TooManyStopSequences_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new GenerationOptions { StopSequences = [.. Enumerable.Range(0, 257).Select(i => $"s{i}")] });

        Assert.Equal("GenerationOptions.StopSequences may hold at most 256 sequences; got 257.", e.Message.Split(" (Parameter")[0]);
    }

    [Fact]
    public void GenerationOptions_HugeStopSequence_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new GenerationOptions { StopSequences = [new string('x', 4097)] });

        Assert.StartsWith("StopSequences[0] has 4097 characters; a stop sequence may have at most 4096.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TemplateLimitInts))]
    public void TemplateLimits_OutOfRange_ValidateNamesLimitAndValue(string name, int value)
    {
        TemplateLimits limits = name switch
        {
            nameof(TemplateLimits.MaxNestingDepth) => new() { MaxNestingDepth = value },
            nameof(TemplateLimits.MaxMacroCallDepth) => new() { MaxMacroCallDepth = value },
            nameof(TemplateLimits.MaxLoopIterations) => new() { MaxLoopIterations = value },
            _ => new() { MaxOutputLength = value },
        };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ChatTemplate.Parse("x", null, limits));

        Assert.Equal(name, e.ParamName);
        Assert.Contains($"TemplateLimits.{name} must be between ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"got {value}.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3601)]
    public void TemplateLimits_RenderTimeOutOfRange_IsRejected(int seconds)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ChatTemplate.Parse("x", null, new TemplateLimits { MaxRenderTime = TimeSpan.FromSeconds(seconds) }));

        Assert.Equal(nameof(TemplateLimits.MaxRenderTime), e.ParamName);
    }
}
