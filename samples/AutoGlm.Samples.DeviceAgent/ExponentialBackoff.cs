namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// Delays between attempts: <see cref="BaseDelay"/> doubling per retry, capped at <see cref="MaxDelay"/>, each spread by up to
/// ±<see cref="Jitter"/> of itself so that many clients that failed together do not retry together.
/// </summary>
/// <remarks>Immutable and thread-safe; the random source is passed in so tests can fix it.</remarks>
public sealed record ExponentialBackoff
{
    /// <summary>The delay before the first retry; 1 s by default.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest delay, jitter included; 30 s by default.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The fraction [0, 1) by which a delay may be shortened or lengthened at random; 0.2 by default.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>The delay before retry number <paramref name="retry"/> (0 for the first retry).</summary>
    /// <param name="retry">How many retries came before this one.</param>
    /// <param name="random">A uniform sample in [0, 1); 0.5 gives the delay without jitter.</param>
    public TimeSpan DelayFor(int retry, double random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retry);
        ArgumentOutOfRangeException.ThrowIfNegative(random);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(random, 1.0);
        double baseTicks = BaseDelay.Ticks;
        double capTicks = MaxDelay.Ticks;
        // 2^retry overflows nothing here: the cap is reached long before, and the exponent is clamped.
        double ticks = Math.Min(capTicks, baseTicks * Math.Pow(2, Math.Min(retry, 62)));
        ticks *= 1 + (Jitter * ((2 * random) - 1));
        return TimeSpan.FromTicks((long)Math.Min(capTicks, ticks));
    }

    /// <summary>Throws when the settings cannot work, naming the setting and its value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A delay is not positive, the cap is below the base, or the jitter is outside [0, 1).</exception>
    public void Validate(string name)
    {
        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentOutOfRangeException(name, $"{name}: BaseDelay must be positive and MaxDelay at least BaseDelay; got {BaseDelay} and {MaxDelay}.");
        }

        if (Jitter is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(name, $"{name}: Jitter must be in [0, 1); got {Jitter}.");
        }
    }
}
