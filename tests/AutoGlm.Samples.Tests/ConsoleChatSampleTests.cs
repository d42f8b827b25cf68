namespace AutoGlm.Samples.Tests;

/// <summary>The console chat sample driven through its standard input on the tiny model.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ConsoleChatSampleTests(TinyModelFixture model)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(90);

    private static string SampleDll => Path.Combine(AppContext.BaseDirectory, "AutoGlm.Samples.Chat.dll");

    [Fact]
    public async Task Chat_ManyTurnsResetAndExit_KeepsAnsweringAndQuitsCleanly()
    {
        // The tiny model's context is 256 tokens; eight questions of well over 32 tokens each overflow it whatever the
        // answers are, so the sample must drop old turns rather than fail.
        const string Question = "Tell me another long story about the river, the mountain, the old town and the people who lived there, number";
        string input = string.Concat(Enumerable.Range(1, 8).Select(i => $"{Question} {i}\n")) + "/reset\nhi\n/exit\n";

        ExternalProcess.Result run = await ExternalProcess.RunAsync("dotnet", [SampleDll, model.ModelPath], s_limit, input: input);

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}:\n{run.Output}\n{run.Error}");
        // Eleven prompts (the model's random text may add more "> ").
        Assert.True(run.Output.Split("> ").Length - 1 >= 11, run.Output);
        Assert.Contains("(history cleared)\n", run.Output, StringComparison.Ordinal);
        Assert.Contains("(oldest messages dropped to fit the context)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_MissingModelFolder_ExitsWithOneClearLine()
    {
        string missing = Path.Combine(model.Root, "no-such-model");

        ExternalProcess.Result run = await ExternalProcess.RunAsync("dotnet", [SampleDll, missing], s_limit, input: string.Empty);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"Model folder '{missing}' does not exist; pass a folder built by 'autoglm build', or no argument for the demo model.\n", run.Error);
    }
}
