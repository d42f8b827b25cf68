using AutoGlm.Generation;
using AutoGlm.Tests.Generation;

namespace AutoGlm.Tests.Untrusted;

/// <summary>Hostile prompts reach the scheduler as token ids: empty, longer than the context, ids outside the vocabulary. Each is an ArgumentException naming the problem, and the scheduler keeps serving.</summary>
public sealed class PromptCorpusTests
{
    public static TheoryData<int[], string> BadPrompts => new()
    {
        { [], "The prompt is empty" },
        { [.. Enumerable.Repeat(1, 64)], "The prompt has 64 tokens but the model's context holds 64" },
        { [.. Enumerable.Repeat(1, 65)], "The prompt has 65 tokens" },
        { [.. Enumerable.Repeat(1, 100_000)], "The prompt has 100000 tokens" },
        { [1, -1], "Prompt token 1 is -1, outside the model's vocabulary of 97 ids" },
        { [97], "Prompt token 0 is 97, outside the model's vocabulary of 97 ids" },
        { [1, 2, int.MaxValue], "Prompt token 2 is 2147483647" },
        { [int.MinValue], "Prompt token 0 is -2147483648" },
    };

    [Theory]
    [MemberData(nameof(BadPrompts))]
    public async Task GenerateAsync_BadPrompt_ThrowsNamingTheProblemAndKeepsServing(int[] prompt, string named)
    {
        await using var scheduler = new BatchScheduler(new FakeBatchDecoder(maxSequenceLength: 64), new FakeTextDecoder(null), new BatchSchedulerOptions { EosTokenIds = [0] });

        // Too long a prompt is the ArgumentException subclass ContextLengthExceededException; the rest are plain ArgumentExceptions.
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => scheduler.GenerateAsync(prompt, GenerationOptions.Greedy with { MaxNewTokens = 2 }));
        Assert.Equal(named.StartsWith("The prompt has", StringComparison.Ordinal) ? typeof(ContextLengthExceededException) : typeof(ArgumentException), e.GetType());

        Assert.Equal("prompt", e.ParamName);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        GenerationResult ok = await scheduler.GenerateAsync([1, 2, 3], GenerationOptions.Greedy with { MaxNewTokens = 2 }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEmpty(ok.Tokens);
    }
}
