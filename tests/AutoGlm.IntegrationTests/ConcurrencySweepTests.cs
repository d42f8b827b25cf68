using System.Text.Json;
using AutoGlm.Cli;

namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class ConcurrencySweepTests
{
    private readonly TinyModelFixture _fixture;

    public ConcurrencySweepTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task RunAsync_TinyModel_ReportsLevelOneFirstThenEachLevelWithConsistentFields()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4 });

        BenchReport report = await ConcurrencySweep.RunAsync(model, new BenchSettings([4, 2, 4], PromptTokens: 10, NewTokens: 6), CancellationToken.None);

        Assert.Equal(_fixture.ModelPath, report.Model);
        Assert.Equal("CPU", report.ExecutionProvider);
        Assert.Equal(10, report.PromptTokens);
        Assert.Equal(6, report.NewTokens);
        Assert.Equal([1, 4, 2], report.Levels.Select(l => l.Concurrency));
        Assert.Equal(1.0, report.Levels[0].RatioToConcurrency1);
        foreach (BenchLevelResult level in report.Levels)
        {
            Assert.Equal(level.Concurrency * 6, level.GeneratedTokens);
            Assert.True(level.WallSeconds > 0);
            Assert.Equal(level.GeneratedTokens / level.WallSeconds, level.TokensPerSecond, 9);
            Assert.Equal(level.TokensPerSecond / report.Levels[0].TokensPerSecond, level.RatioToConcurrency1, 9);
            Assert.InRange(level.TimeToFirstTokenP50, double.Epsilon, level.TimeToFirstTokenP95);
            Assert.InRange(level.TimeToFirstTokenP95, level.TimeToFirstTokenP50, level.TimeToFirstTokenP99);
            Assert.InRange(level.InterTokenP50, 0, level.InterTokenP95);
            Assert.InRange(level.InterTokenP95, level.InterTokenP50, level.InterTokenP99);
            Assert.True(level.InterTokenP95 > 0);

            // Every token comes from one step: at least a prefill step and five decode steps, at most one step per token.
            Assert.InRange(level.Steps, 6, level.GeneratedTokens + level.Concurrency);
            // Sampled while the level runs, so a level on the tiny model may finish between two samples.
            Assert.InRange(level.PeakKvTokensReserved, 0, level.Concurrency * 16);
            Assert.True(level.PeakKvBytes >= 0);
        }

        Assert.Equal(0, model.ActiveRequestCount);
        Assert.Equal(0, model.KvTokensInUse);
    }

    [Fact]
    public async Task RunAsync_Json_IsOneObjectWithSnakeCaseFields()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 2 });
        BenchReport report = await ConcurrencySweep.RunAsync(model, new BenchSettings([2], PromptTokens: 4, NewTokens: 3), CancellationToken.None);

        using JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(report, CliJson.Options));

        Assert.Equal(
            ["model", "execution_provider", "prompt_tokens", "new_tokens", "logical_cores", "load_average", "levels"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, json.RootElement.GetProperty("levels").GetArrayLength());
        Assert.Equal(
            ["concurrency", "generated_tokens", "wall_seconds", "tokens_per_second", "ratio_to_concurrency_1", "ttft_ms_p50", "ttft_ms_p95", "ttft_ms_p99", "inter_token_ms_p50", "inter_token_ms_p95", "inter_token_ms_p99", "steps", "peak_kv_tokens_reserved", "peak_kv_bytes"],
            json.RootElement.GetProperty("levels")[1].EnumerateObject().Select(p => p.Name));
        Assert.Equal(6, json.RootElement.GetProperty("levels")[1].GetProperty("generated_tokens").GetInt32());
        // On Linux the machine's load is reported next to the timings: three non-negative averages.
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(3, json.RootElement.GetProperty("load_average").GetArrayLength());
            Assert.All(json.RootElement.GetProperty("load_average").EnumerateArray(), l => Assert.True(l.GetDouble() >= 0));
        }
    }

    [Fact]
    public async Task RunAsync_RequestLongerThanModel_ThrowsStatingTheLengths()
    {
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxSequenceLength = 32 });

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => ConcurrencySweep.RunAsync(model, new BenchSettings([1], PromptTokens: 30, NewTokens: 5), CancellationToken.None));

        Assert.StartsWith("A request of 30 prompt tokens and 5 new tokens needs 35 positions, but the model holds at most 32; lower --prompt-tokens or --new-tokens.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 2.5)]
    [InlineData(0.95, 3.85)]
    [InlineData(1.0, 4.0)]
    public void Percentile_FourValues_InterpolatesBetweenRanks(double fraction, double expected)
    {
        Assert.Equal(expected, ConcurrencySweep.Percentile([4.0, 1.0, 3.0, 2.0], fraction), 12);
    }

    [Fact]
    public void ParseLevels_NotANumber_ThrowsNamingThePart()
    {
        CommandLineException error = Assert.Throws<CommandLineException>(() => BenchCommand.ParseLevels("1,x,8"));

        Assert.Equal("option '--concurrency' must be a comma-separated list of integers from 1 to 256, like 1,4,8; 'x' is not one.", error.Message);
        Assert.Equal([1, 4, 8], BenchCommand.ParseLevels("1, 4,8"));
    }
}
