namespace AutoGlm.Tests.Generation;

/// <summary>
/// Tests that measure the scheduler thread's allocations run alone: CPU-bound tests running beside them on two
/// cores would delay the stream readers, and a reader that falls behind makes its token channel grow (an
/// amortised allocation the measurement would wrongly charge to the loop).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTestCollection
{
    public const string Name = "Serial (measures allocations)";
}
