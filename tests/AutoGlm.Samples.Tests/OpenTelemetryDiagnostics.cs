using System.Diagnostics.Tracing;

namespace AutoGlm.Samples.Tests;

/// <summary>Captures the OpenTelemetry SDK's own diagnostics (its event sources, verbose), e.g. which exporters a provider was built with.</summary>
internal sealed class OpenTelemetryDiagnostics : EventListener
{
    private readonly List<string> _events = [];

    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name.StartsWith("OpenTelemetry", StringComparison.Ordinal))
        {
            EnableEvents(eventSource, EventLevel.Verbose);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        string message = eventData.Message is { } format && eventData.Payload is { } payload
            ? string.Format(System.Globalization.CultureInfo.InvariantCulture, format, [.. payload])
            : eventData.EventName ?? string.Empty;
        lock (_events)
        {
            _events.Add($"{eventData.EventName}: {message}");
        }
    }
}
