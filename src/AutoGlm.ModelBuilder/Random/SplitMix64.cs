namespace AutoGlm.ModelBuilder.Random;

/// <summary>
/// A tiny, fully specified pseudo-random generator (SplitMix64) with Box–Muller normals, so random
/// checkpoints are bit-for-bit reproducible on every runtime version and platform.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class SplitMix64
{
    private ulong _state;
    private double? _spare;

    public SplitMix64(ulong seed)
    {
        _state = seed;
    }

    /// <summary>A generator whose stream depends on the seed and a name (FNV-1a), independent of generation order.</summary>
    public static SplitMix64 ForName(ulong seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char ch in name)
        {
            hash = (hash ^ ch) * 1099511628211UL;
        }

        return new SplitMix64(seed ^ hash);
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in (0, 1].</summary>
    public double NextDouble() => ((NextUInt64() >> 11) + 1) * (1.0 / 9007199254740992.0);

    public double NextNormal()
    {
        if (_spare is double spare)
        {
            _spare = null;
            return spare;
        }

        double u1 = NextDouble();
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }
}
