using BenchmarkDotNet.Configs;

namespace AutoGlm.Benchmarks;

/// <summary>Adds the <see cref="TokensPerSecondColumn"/> to a benchmark class whose operation is one token.</summary>
internal sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig()
    {
        AddColumn(new TokensPerSecondColumn());
    }
}
