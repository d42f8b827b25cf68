using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class GenerationOptionsTests
{
    public static TheoryData<Func<GenerationOptions>, string, string> InvalidValues => new()
    {
        { () => new GenerationOptions { MaxNewTokens = 0 }, "MaxNewTokens", "GenerationOptions.MaxNewTokens must be between 1 and 16777216; got 0." },
        { () => new GenerationOptions { Temperature = -0.5f }, "Temperature", "GenerationOptions.Temperature must be 0 (greedy) or a finite number between 0.0001 and 100; got -0.5." },
        { () => new GenerationOptions { Temperature = float.NaN }, "Temperature", "GenerationOptions.Temperature must be 0 (greedy) or a finite number between 0.0001 and 100; got NaN." },
        { () => new GenerationOptions { TopK = -1 }, "TopK", "GenerationOptions.TopK must be 0 (disabled) or a positive number of at most 4194304; got -1." },
        { () => new GenerationOptions { TopP = 1.5f }, "TopP", "GenerationOptions.TopP must be greater than 0 and at most 1; got 1.5." },
        { () => new GenerationOptions { TopP = 0f }, "TopP", "GenerationOptions.TopP must be greater than 0 and at most 1; got 0." },
        { () => new GenerationOptions { MinP = 1.25f }, "MinP", "GenerationOptions.MinP must be between 0 and 1; got 1.25." },
        { () => new GenerationOptions { RepetitionPenalty = 0f }, "RepetitionPenalty", "GenerationOptions.RepetitionPenalty must be a finite number between 0.0001 and 100 (1 disables it); got 0." },
        { () => new GenerationOptions { FrequencyPenalty = 2.5f }, "FrequencyPenalty", "GenerationOptions.FrequencyPenalty must be between -2 and 2; got 2.5." },
        { () => new GenerationOptions { PresencePenalty = -3f }, "PresencePenalty", "GenerationOptions.PresencePenalty must be between -2 and 2; got -3." },
        { () => new GenerationOptions { StopTokenIds = [5, -1] }, "StopTokenIds", "GenerationOptions.StopTokenIds item 1 must be a token id between 0 and 4194303; got -1." },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Init_InvalidValue_ThrowsArgumentOutOfRangeQuotingTheValue(Func<GenerationOptions> create, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Init_EmptyStopSequence_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => new GenerationOptions { StopSequences = ["ok", ""] });
        Assert.StartsWith("StopSequences[1] is an empty string", error.Message);
    }

    [Fact]
    public void Defaults_AreUntruncatedSamplingFor256Tokens()
    {
        var options = new GenerationOptions();
        Assert.Equal(256, options.MaxNewTokens);
        Assert.Equal(1f, options.Temperature);
        Assert.Equal(0, options.TopK);
        Assert.Equal(1f, options.TopP);
        Assert.Equal(0f, options.MinP);
        Assert.Equal(1f, options.RepetitionPenalty);
        Assert.False(options.IsGreedy);
        Assert.True(GenerationOptions.Greedy.IsGreedy);
        Assert.Empty(options.StopSequences);
    }

    [Fact]
    public void StopSequences_SourceListChangedLater_KeepsTheValidatedCopy()
    {
        var source = new List<string> { "END" };
        var options = new GenerationOptions { StopSequences = source };
        source[0] = "";
        Assert.Equal(["END"], options.StopSequences);
    }
}
