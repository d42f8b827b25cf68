namespace AutoGlm.Generation;

/// <summary>Where the time of one generation request went, measured from the moment it was submitted.</summary>
/// <remarks>An immutable value; safe to share between threads.</remarks>
/// <param name="QueueTime">From submission until the scheduler admitted the request into the running batch.</param>
/// <param name="TimeToFirstToken">From submission until the first token was sampled (includes queue time and prefill).</param>
/// <param name="TotalTime">From submission until the last token was sampled.</param>
/// <param name="TimePerOutputToken">
/// The mean time between consecutive tokens after the first one (<see cref="TimeSpan.Zero"/> when fewer than two tokens were produced).
/// </param>
public readonly record struct GenerationTimings(
    TimeSpan QueueTime,
    TimeSpan TimeToFirstToken,
    TimeSpan TotalTime,
    TimeSpan TimePerOutputToken);
