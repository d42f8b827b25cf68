using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting;

/// <summary>Measures one chat request: its span, time to first output, duration, time per output token and token usage.</summary>
/// <remarks>Used by one request at a time; not thread-safe.</remarks>
internal sealed class ChatRequestTelemetry : IDisposable
{
    private readonly AutoGlmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Activity? _activity;
    private string? _modelId;
    private TimeSpan? _timeToFirstOutput;
    private long? _inputTokens;
    private long? _outputTokens;
    private ChatFinishReason? _finishReason;
    private Exception? _error;
    private bool _ended;

    public ChatRequestTelemetry(AutoGlmMetrics metrics, TimeProvider time, ChatOptions? options)
    {
        _metrics = metrics;
        _time = time;
        _started = time.GetTimestamp();
        _activity = AutoGlmMetrics.ActivitySource.StartActivity("chat", ActivityKind.Internal);
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag("gen_ai.operation.name", "chat");
            _activity.SetTag("gen_ai.provider.name", AutoGlmMetrics.ProviderName);
            if (options is not null)
            {
                _activity.SetTag("gen_ai.request.max_tokens", options.MaxOutputTokens);
                _activity.SetTag("gen_ai.request.temperature", options.Temperature);
                _activity.SetTag("gen_ai.request.top_p", options.TopP);
                _activity.SetTag("gen_ai.request.top_k", options.TopK);
                _activity.SetTag("gen_ai.request.seed", options.Seed);
            }
        }
    }

    public void OnLease(GlmModelLease lease)
    {
        _modelId = lease.ModelId;
        if (_activity is not null)
        {
            _activity.DisplayName = $"chat {lease.ModelId}";
            _activity.SetTag("gen_ai.request.model", lease.ModelId);
            _activity.SetTag("autoglm.model.candidate", lease.IsCandidate);
        }
    }

    public void OnUpdate(ChatResponseUpdate update)
    {
        if (_timeToFirstOutput is null && update.Contents.Any(static c => c is not UsageContent))
        {
            _timeToFirstOutput = _time.GetElapsedTime(_started);
        }

        foreach (AIContent content in update.Contents)
        {
            if (content is UsageContent usage)
            {
                AddUsage(usage.Details);
            }
        }

        _finishReason = update.FinishReason ?? _finishReason;
    }

    public void OnResponse(ChatResponse response)
    {
        if (response.Usage is not null)
        {
            AddUsage(response.Usage);
        }

        _finishReason = response.FinishReason;
    }

    public void OnError(Exception error) => _error ??= error;

    /// <summary>Records the measurements and ends the span; only the first call does anything.</summary>
    public void Dispose()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        TimeSpan duration = _time.GetElapsedTime(_started);
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { "gen_ai.provider.name", AutoGlmMetrics.ProviderName },
        };
        if (_modelId is not null)
        {
            tags.Add("gen_ai.request.model", _modelId);
        }

        if (_error is not null)
        {
            tags.Add("error.type", _error.GetType().FullName);
        }

        _metrics.RequestDuration.Record(duration.TotalSeconds, tags);
        if (_error is null)
        {
            if (_timeToFirstOutput is TimeSpan first)
            {
                _metrics.TimeToFirstToken.Record(first.TotalSeconds, tags);
                if (_outputTokens is > 1 and long outputs)
                {
                    _metrics.TimePerOutputToken.Record((duration - first).TotalSeconds / (outputs - 1), tags);
                }
            }

            RecordTokens(_inputTokens, "input", tags);
            RecordTokens(_outputTokens, "output", tags);
        }

        if (_activity is not null)
        {
            _activity.SetTag("gen_ai.usage.input_tokens", _inputTokens);
            _activity.SetTag("gen_ai.usage.output_tokens", _outputTokens);
            if (_finishReason is ChatFinishReason reason)
            {
                _activity.SetTag("gen_ai.response.finish_reasons", new[] { reason.Value });
            }

            if (_error is not null)
            {
                _activity.SetTag("error.type", _error.GetType().FullName);
                _activity.SetStatus(ActivityStatusCode.Error, _error.Message);
            }

            _activity.Dispose();
        }
    }

    private void AddUsage(UsageDetails details)
    {
        if (details.InputTokenCount is long input)
        {
            _inputTokens = (_inputTokens ?? 0) + input;
        }

        if (details.OutputTokenCount is long output)
        {
            _outputTokens = (_outputTokens ?? 0) + output;
        }
    }

    private void RecordTokens(long? count, string type, TagList tags)
    {
        if (count is long value)
        {
            tags.Add("gen_ai.token.type", type);
            _metrics.TokenUsage.Record(value, tags);
        }
    }
}
