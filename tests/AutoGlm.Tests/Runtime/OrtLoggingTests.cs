using AutoGlm.Runtime;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Tests.Runtime;

public sealed class OrtLoggingTests
{
    [Fact]
    public void CreateSession_OnnxRuntimeWarning_ReachesTheConfiguredLogger()
    {
        var logger = new ListLogger();
        ILogger previous = OrtRuntime.Logger;
        OrtRuntime.Logger = logger;
        try
        {
            using OrtSession session = OrtSession.Create(TestGraphs.AddWithUnusedInitializer());
        }
        finally
        {
            OrtRuntime.Logger = previous;
        }

        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("unused_weight", StringComparison.Ordinal) && e.Message.StartsWith("ONNX Runtime: ", StringComparison.Ordinal));
    }

    private sealed class ListLogger : ILogger
    {
        private readonly Lock _gate = new();

        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_gate)
            {
                Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
