using Microsoft.Extensions.Logging;

namespace AutoGlm.Extensions.Hosting;

/// <summary>The log messages of <see cref="GlmModelHost"/>.</summary>
internal static partial class GlmModelHostLog
{
    [LoggerMessage(1, LogLevel.Information, "Loading model '{ModelPath}' on {ExecutionProvider}.")]
    public static partial void Loading(ILogger logger, string modelPath, string executionProvider);

    [LoggerMessage(2, LogLevel.Information, "Loaded model '{ModelPath}' in {ElapsedMilliseconds} ms (max sequence {MaxSequenceLength}, KV budget {KvBudgetTokens} tokens).")]
    public static partial void Loaded(ILogger logger, string modelPath, long elapsedMilliseconds, int maxSequenceLength, int kvBudgetTokens);

    [LoggerMessage(3, LogLevel.Error, "Loading model '{ModelPath}' failed; the next request tries again.")]
    public static partial void LoadFailed(ILogger logger, Exception exception, string modelPath);

    [LoggerMessage(4, LogLevel.Information, "Unloading model '{ModelPath}' after {IdleSeconds} s without requests; the next request loads it again.")]
    public static partial void UnloadingIdle(ILogger logger, string modelPath, double idleSeconds);

    [LoggerMessage(5, LogLevel.Information, "Stopping: waiting up to {DrainSeconds} s for {RequestsInFlight} request(s) in flight; new requests are rejected.")]
    public static partial void Draining(ILogger logger, double drainSeconds, int requestsInFlight);

    [LoggerMessage(6, LogLevel.Warning, "Drain timed out after {DrainSeconds} s; cancelling {RequestsInFlight} request(s) still in flight.")]
    public static partial void DrainTimedOut(ILogger logger, double drainSeconds, int requestsInFlight);

    [LoggerMessage(7, LogLevel.Information, "Candidate model '{ModelPath}' loaded beside '{CurrentModelPath}'; it takes {TrafficShare:P1} of new requests.")]
    public static partial void CandidateLoaded(ILogger logger, string modelPath, string currentModelPath, double trafficShare);

    [LoggerMessage(8, LogLevel.Information, "Candidate model '{ModelPath}' now takes {TrafficShare:P1} of new requests.")]
    public static partial void CandidateShareChanged(ILogger logger, string modelPath, double trafficShare);

    [LoggerMessage(9, LogLevel.Information, "Promoted model '{ModelPath}'; retiring '{RetiredModelPath}' once its {RequestsInFlight} request(s) in flight finish.")]
    public static partial void Promoted(ILogger logger, string modelPath, string retiredModelPath, int requestsInFlight);

    [LoggerMessage(10, LogLevel.Information, "Rolled back candidate model '{ModelPath}'; it is released once its {RequestsInFlight} request(s) in flight finish.")]
    public static partial void RolledBack(ILogger logger, string modelPath, int requestsInFlight);

    [LoggerMessage(11, LogLevel.Debug, "Released model '{ModelPath}'.")]
    public static partial void Released(ILogger logger, string modelPath);

    [LoggerMessage(12, LogLevel.Information, "Stopped.")]
    public static partial void Stopped(ILogger logger);
}
