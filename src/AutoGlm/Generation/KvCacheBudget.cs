using System.Globalization;

namespace AutoGlm.Generation;

/// <summary>
/// The number of KV-cache positions (tokens) all running sequences of one model may hold together.
/// A sequence reserves positions in blocks of <see cref="BlockTokens"/> as it actually needs them (its prompt's
/// blocks when it is admitted, the next block when it crosses into it) and gives them back when it retires or is
/// preempted, so what is reserved follows the tokens held, not the most a request might generate.
/// </summary>
/// <remarks>
/// Only the scheduler loop reserves and releases; <see cref="TokensInUse"/> may be read from any thread.
/// </remarks>
internal sealed class KvCacheBudget
{
    private int _tokensInUse;

    /// <summary>The positions reserved at a time.</summary>
    public const int BlockTokens = 16;

    /// <summary>
    /// The reservation that covers <paramref name="positions"/> positions: whole blocks, but never more than the
    /// <paramref name="maxPositions"/> the sequence can ever hold (so a request that fits the budget alone always fits).
    /// </summary>
    public static int ReservationFor(int positions, int maxPositions) =>
        Math.Min((int)Math.Min(((long)positions + BlockTokens - 1) / BlockTokens * BlockTokens, int.MaxValue), maxPositions);

    /// <summary>Creates a budget of <paramref name="capacityTokens"/> positions.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacityTokens"/> is less than 1.</exception>
    public KvCacheBudget(int capacityTokens)
    {
        if (capacityTokens < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(capacityTokens),
                capacityTokens,
                string.Create(CultureInfo.InvariantCulture, $"The KV budget must be at least 1 token; got {capacityTokens}."));
        }

        CapacityTokens = capacityTokens;
    }

    /// <summary>Gets the total number of positions.</summary>
    public int CapacityTokens { get; }

    /// <summary>Gets the number of positions reserved by running sequences.</summary>
    public int TokensInUse => Volatile.Read(ref _tokensInUse);

    /// <summary>Gets a value indicating whether a reservation of <paramref name="tokens"/> could ever succeed.</summary>
    public bool CanEverFit(int tokens) => tokens <= CapacityTokens;

    /// <summary>Reserves <paramref name="tokens"/> positions if that many are free now.</summary>
    public bool TryReserve(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        while (true)
        {
            int current = Volatile.Read(ref _tokensInUse);
            if (current + tokens > CapacityTokens)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _tokensInUse, current + tokens, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back <paramref name="tokens"/> positions reserved earlier.</summary>
    /// <exception cref="InvalidOperationException">More positions would be released than are reserved.</exception>
    public void Release(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        int after = Interlocked.Add(ref _tokensInUse, -tokens);
        if (after < 0)
        {
            Interlocked.Add(ref _tokensInUse, tokens);
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"Released {tokens} KV positions but only {after + tokens} were reserved; a sequence was retired twice."));
        }
    }
}
