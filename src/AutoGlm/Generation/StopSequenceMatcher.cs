namespace AutoGlm.Generation;

/// <summary>
/// Watches a sequence's text as it streams and finds the first stop sequence in it, even when the stop
/// sequence is split over several tokens.
/// </summary>
/// <remarks>
/// <para>
/// Text is released as soon as it can no longer be part of a stop sequence. The longest tail of the text
/// seen so far that is the beginning of some stop sequence is held back; when more text shows that it is
/// not a stop sequence it is released, and when it completes one, everything before the stop sequence is
/// released and the stop sequence itself is dropped. Concatenating every released piece therefore gives the
/// text up to (not including) the first stop sequence, or all of it when none occurs.
/// </para>
/// <para>Not thread-safe: one instance per sequence, used by the scheduler loop only.</para>
/// </remarks>
internal sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly int _longestStop;
    private char[] _pending = [];
    private int _pendingLength;

    /// <summary>Creates a matcher for <paramref name="stopSequences"/> (each non-empty).</summary>
    public StopSequenceMatcher(IReadOnlyList<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = [.. stopSequences];
        foreach (string stop in _stops)
        {
            ArgumentException.ThrowIfNullOrEmpty(stop, nameof(stopSequences));
            _longestStop = Math.Max(_longestStop, stop.Length);
        }
    }

    /// <summary>Gets a value indicating whether a stop sequence has been found; no text is accepted after that.</summary>
    public bool IsStopped { get; private set; }

    /// <summary>Gets how many characters are held back because they could still begin a stop sequence.</summary>
    public int HeldBackLength => _pendingLength;

    /// <summary>Adds newly generated text and returns the text that is now certain not to belong to a stop sequence.</summary>
    /// <exception cref="InvalidOperationException">A stop sequence was already found.</exception>
    public string Append(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsStopped)
        {
            throw new InvalidOperationException("The stop sequence matcher already found a stop sequence; the sequence should have ended.");
        }

        if (_stops.Length == 0 || text.Length == 0)
        {
            return _stops.Length == 0 ? text : string.Empty;
        }

        EnsureCapacity(_pendingLength + text.Length);
        text.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += text.Length;
        ReadOnlySpan<char> pending = _pending.AsSpan(0, _pendingLength);

        int stopAt = -1;
        foreach (string stop in _stops)
        {
            int at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt))
            {
                stopAt = at;
            }
        }

        if (stopAt >= 0)
        {
            IsStopped = true;
            string before = new(pending[..stopAt]);
            _pendingLength = 0;
            return before;
        }

        int hold = LongestStopPrefixSuffix(pending);
        int release = _pendingLength - hold;
        if (release == 0)
        {
            return string.Empty;
        }

        string released = new(pending[..release]);
        pending[release..].CopyTo(_pending);
        _pendingLength = hold;
        return released;
    }

    /// <summary>Releases the held-back text, for a sequence that ends for another reason.</summary>
    public string Flush()
    {
        if (_pendingLength == 0)
        {
            return string.Empty;
        }

        string rest = new(_pending.AsSpan(0, _pendingLength));
        _pendingLength = 0;
        return rest;
    }

    private int LongestStopPrefixSuffix(ReadOnlySpan<char> pending)
    {
        for (int length = Math.Min(pending.Length, _longestStop - 1); length > 0; length--)
        {
            ReadOnlySpan<char> tail = pending[^length..];
            foreach (string stop in _stops)
            {
                if (stop.Length > length && stop.AsSpan(0, length).SequenceEqual(tail))
                {
                    return length;
                }
            }
        }

        return 0;
    }

    private void EnsureCapacity(int length)
    {
        if (_pending.Length < length)
        {
            Array.Resize(ref _pending, Math.Max(length, Math.Max(16, _pending.Length * 2)));
        }
    }
}
