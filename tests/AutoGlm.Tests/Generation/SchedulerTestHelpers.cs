using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

/// <summary>Prompts, token ids and polling shared by the scheduler tests.</summary>
internal static class SchedulerTestHelpers
{
    /// <summary>A deterministic prompt of <paramref name="length"/> ids in 1..90, different per <paramref name="salt"/>.</summary>
    public static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => 1 + ((i * 31 + salt * 7) % 90)).ToArray();

    /// <summary>The ids of a result's tokens.</summary>
    public static int[] Ids(GenerationResult result) => result.Tokens.Select(t => t.Id).ToArray();

    /// <summary>Polls <paramref name="condition"/> every millisecond until it holds; throws after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntil(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(1);
        }
    }
}
