using Microsoft.ML.OnnxRuntime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AutoGlm.Execution;

/// <summary>
/// Applies an <see cref="ExecutionProvider"/> to session options: either the provider is appended, or an
/// <see cref="ExecutionProviderUnavailableException"/> says what is missing. <see cref="ExecutionProvider.Auto"/>
/// tries CUDA → DirectML → CPU and records each rejection.
/// </summary>
/// <remarks>Stateless apart from its delegates; thread-safe.</remarks>
internal sealed partial class ExecutionProviderSelector
{
    private readonly Func<ExecutionProvider, string?> _tryApply;
    private readonly ILogger _logger;

    /// <param name="tryApply">Appends a concrete provider and returns null, or returns why it cannot be used (leaving the options unchanged).</param>
    /// <param name="logger">Receives one line per rejected provider under Auto.</param>
    public ExecutionProviderSelector(Func<ExecutionProvider, string?> tryApply, ILogger? logger = null)
    {
        _tryApply = tryApply;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The order <see cref="ExecutionProvider.Auto"/> tries.</summary>
    public static IReadOnlyList<ExecutionProvider> AutoOrder { get; } = [ExecutionProvider.Cuda(), ExecutionProvider.DirectML(), ExecutionProvider.Cpu];

    /// <summary>A selector that appends to real ONNX Runtime session options.</summary>
    public static ExecutionProviderSelector For(SessionOptions options, ILogger? logger = null)
        => new(provider => ExecutionProviderAvailability.TryAppend(provider, options), logger);

    /// <summary>Applies <paramref name="requested"/>.</summary>
    /// <exception cref="ExecutionProviderUnavailableException">An explicitly requested provider cannot be used here.</exception>
    public ExecutionProviderSelection Select(ExecutionProvider requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        if (requested is not AutoExecutionProvider)
        {
            string? reason = _tryApply(requested);
            if (reason is not null)
            {
                throw new ExecutionProviderUnavailableException(requested.Name, $"The {requested} execution provider is not available: {reason}");
            }

            return new ExecutionProviderSelection(requested, requested, []);
        }

        var rejections = new List<ExecutionProviderRejection>();
        foreach (ExecutionProvider candidate in AutoOrder)
        {
            string? reason = _tryApply(candidate);
            if (reason is null)
            {
                return new ExecutionProviderSelection(requested, candidate, rejections.AsReadOnly());
            }

            LogRejected(_logger, candidate, reason);
            rejections.Add(new ExecutionProviderRejection(candidate, reason));
        }

        // The CPU provider cannot be rejected by the real availability check; only a fake can get here.
        throw new ExecutionProviderUnavailableException(
            requested.Name,
            "No execution provider is available: " + string.Join("; ", rejections.Select(r => $"{r.Provider}: {r.Reason}")));
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Auto execution provider: {Provider} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, ExecutionProvider provider, string reason);
}
