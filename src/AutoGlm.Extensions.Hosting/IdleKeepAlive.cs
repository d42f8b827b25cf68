namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The idle keep-alive of a <see cref="GlmModelHost"/>: remembers the last activity and fires once the model has been idle for
/// <see cref="AutoGlmOptions.KeepAlive"/>; the host decides (under its lock) whether to unload.
/// </summary>
/// <remarks>
/// <see cref="Touch"/>, <see cref="Arm"/> and <see cref="Disarm"/> are called under the host's lock; the timer's callback runs on a
/// thread-pool thread and calls back into the host, which takes its lock. Disposing stops the timer.
/// </remarks>
internal sealed class IdleKeepAlive : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _keepAlive;
    private readonly ITimer _timer;
    private long _lastActivity;

    private IdleKeepAlive(TimeProvider time, TimeSpan keepAlive, Action onIdle)
    {
        _time = time;
        _keepAlive = keepAlive;
        _lastActivity = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((Action)state!)(), onIdle, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A keep-alive that calls <paramref name="onIdle"/> when armed and idle long enough; null when <paramref name="keepAlive"/> is unset or not positive.</summary>
    public static IdleKeepAlive? Create(TimeProvider time, TimeSpan? keepAlive, Action onIdle)
        => keepAlive is TimeSpan span && span > TimeSpan.Zero ? new IdleKeepAlive(time, span, onIdle) : null;

    /// <summary>Records activity now.</summary>
    public void Touch() => _lastActivity = _time.GetTimestamp();

    /// <summary>Fires after the keep-alive period (from now).</summary>
    public void Arm() => _timer.Change(_keepAlive, Timeout.InfiniteTimeSpan);

    /// <summary>Does not fire until armed again.</summary>
    public void Disarm() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Called when the timer fired: returns true (and the idle time) when the model has been idle for the whole period; otherwise
    /// re-arms for the rest of it and returns false.
    /// </summary>
    public bool IsExpired(out TimeSpan idle)
    {
        idle = _time.GetElapsedTime(_lastActivity);
        if (idle < _keepAlive)
        {
            _timer.Change(_keepAlive - idle, Timeout.InfiniteTimeSpan);
            return false;
        }

        return true;
    }

    public void Dispose() => _timer.Dispose();
}
