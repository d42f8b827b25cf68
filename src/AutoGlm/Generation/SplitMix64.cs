namespace AutoGlm.Generation;

/// <summary>
/// The SplitMix64 pseudo-random generator (Steele, Lea and Flood, 2014): 8 bytes of state, no allocation, and
/// a sequence fixed by its definition rather than by a runtime version, so a seeded request gives the same
/// tokens on every machine and every .NET release.
/// </summary>
/// <remarks>A mutable value type; each sequence owns its own copy and only the scheduler loop advances it.</remarks>
internal struct SplitMix64
{
    private ulong _state;

    /// <summary>Creates a generator whose first output depends only on <paramref name="seed"/>.</summary>
    public SplitMix64(long seed) => _state = unchecked((ulong)seed);

    /// <summary>Returns the next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        unchecked
        {
            _state += 0x9E3779B97F4A7C15UL;
            ulong z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Returns a number in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
