using System.Diagnostics;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class ManagedPathWarmUpTests
{
    [Fact]
    public void Run_StreamsGreedyAndSampledRequestsAndStopsWithinItsBudget()
    {
        var texts = new List<string>();
        var decoder = new FakeTextDecoder(id =>
        {
            lock (texts)
            {
                texts.Add($"<{id}>");
            }

            return $"<{id}>";
        });
        var clock = Stopwatch.StartNew();

        int requests = ManagedPathWarmUp.Run(decoder, 1000, [999], TimeSpan.FromSeconds(2), CancellationToken.None);

        // At least one greedy and one sampled request of 48 tokens each ran to the end, and the budget was kept
        // (one pair of requests may finish after it, hence the slack).
        Assert.True(requests >= 2 && requests % 2 == 0, $"{requests} requests");
        Assert.Equal(requests * 48, texts.Count);
        Assert.DoesNotContain("<999>", texts); // the end-of-sequence id is never produced
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Run_Cancelled_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ManagedPathWarmUp.Run(new FakeTextDecoder(), 1000, [], TimeSpan.FromSeconds(2), cancellation.Token));
    }
}
