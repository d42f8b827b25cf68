using System.Diagnostics.Tracing;

namespace AutoGlm.Tests.Shared;

/// <summary>
/// Captures the OpenTelemetry SDK's own diagnostics (its <c>OpenTelemetry*</c> event sources): warnings by default (e.g.
/// <c>DuplicateMetricInstrument</c>), or everything with <see cref="Verbose"/> (e.g. which exporters a provider was built with).
/// Linked into every test project that needs it.
/// </summary>
internal class OpenTelemetryDiagnostics : EventListener
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

    // Virtual rather than a constructor argument: EventListener's constructor reports existing sources before a derived
    // constructor could store anything.
    protected virtual EventLevel Level => EventLevel.Warning;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name.StartsWith("OpenTelemetry", StringComparison.Ordinal))
        {
            EnableEvents(eventSource, Level);
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

/// <summary><see cref="OpenTelemetryDiagnostics"/> at verbose level.</summary>
internal sealed class VerboseOpenTelemetryDiagnostics : OpenTelemetryDiagnostics
{
    protected override EventLevel Level => EventLevel.Verbose;
}
