namespace AutoGlm.Tokenization;

/// <summary>
/// Hashes packed (left id, right id) pairs. The default <see cref="long"/> hash XORs the two halves, so pairs
/// such as (a, b) and (b, a), or any two with the same XOR, collide; a multiplicative hash spreads them.
/// </summary>
/// <remarks>Stateless; safe to share between threads.</remarks>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static PairKeyComparer Instance { get; } = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long obj) => (int)(((ulong)obj * 0x9E3779B97F4A7C15UL) >> 32);
}
