using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AutoGlm.Diagnostics;

/// <summary>
/// Measures one chat request: its <c>chat {model}</c> span and the <c>gen_ai.client.*</c> metrics. Exactly one AutoGlm layer
/// measures a request: the outermost one (a hosted registration's telemetry client, or a plain <see cref="Chat.AutoGlmChatClient"/>);
/// layers below it see <see cref="Current"/> and only add what they know (e.g. which model version served it).
/// </summary>
/// <remarks>
/// When a GenAI <c>chat</c> span from another source is current (Microsoft.Extensions.AI's <c>OpenTelemetryChatClient</c>), no second
/// span is started: AutoGlm's <c>autoglm.*</c> attributes go on that span. Used by one request at a time; not thread-safe.
/// </remarks>
internal sealed class ChatTelemetry : IDisposable
{
    private static readonly AsyncLocal<ChatTelemetry?> s_current = new();

    private readonly AutoGlmInstruments? _instruments;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Activity? _activity;
    private readonly bool _ownsActivity;
    private readonly string _requestModel;
    private readonly ChatTelemetry? _previous;
    private string? _responseModel;
    private string? _responseId;
    private long? _inputTokens;
    private long? _outputTokens;
    private ChatFinishReason? _finishReason;
    private Exception? _error;
    private bool _ended;

    private ChatTelemetry(AutoGlmInstruments? instruments, TimeProvider time, string servedModelId, ChatOptions? options, ChatTelemetry? previous)
    {
        _instruments = instruments;
        _time = time;
        _previous = previous;
        _started = time.GetTimestamp();
        _requestModel = options?.ModelId ?? servedModelId;
        Activity? current = Activity.Current;
        if (current is not null && current.Source != AutoGlmInstruments.ActivitySource && IsGenAiChatSpan(current))
        {
            _activity = current;
            return;
        }

        _activity = AutoGlmInstruments.ActivitySource.StartActivity($"{AutoGlmInstruments.ChatOperation} {_requestModel}", ActivityKind.Internal);
        _ownsActivity = _activity is not null;
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag(AutoGlmInstruments.OperationNameTag, AutoGlmInstruments.ChatOperation);
            _activity.SetTag(AutoGlmInstruments.ProviderNameTag, AutoGlmTelemetry.ProviderName);
            _activity.SetTag(AutoGlmInstruments.RequestModelTag, _requestModel);
            if (options is not null)
            {
                _activity.SetTag("gen_ai.request.max_tokens", options.MaxOutputTokens);
                _activity.SetTag("gen_ai.request.temperature", options.Temperature);
                _activity.SetTag("gen_ai.request.top_p", options.TopP);
                _activity.SetTag("gen_ai.request.top_k", options.TopK);
                _activity.SetTag("gen_ai.request.seed", options.Seed);
                _activity.SetTag("gen_ai.request.frequency_penalty", options.FrequencyPenalty);
                _activity.SetTag("gen_ai.request.presence_penalty", options.PresencePenalty);
                if (options.StopSequences is { Count: > 0 } stops)
                {
                    _activity.SetTag("gen_ai.request.stop_sequences", stops.ToArray());
                }
            }
        }
    }

    /// <summary>The request an enclosing AutoGlm layer is measuring on this async flow, or null.</summary>
    public static ChatTelemetry? Current => s_current.Value;

    /// <summary>
    /// Starts measuring a request, unless an enclosing AutoGlm layer already does (then returns null). The caller disposes the result
    /// on the same async flow, which also ends <see cref="Current"/>.
    /// </summary>
    public static ChatTelemetry? Start(AutoGlmInstruments? instruments, TimeProvider time, string servedModelId, ChatOptions? options)
    {
        if (s_current.Value is not null)
        {
            return null;
        }

        var telemetry = new ChatTelemetry(instruments, time, servedModelId, options, previous: null);
        s_current.Value = telemetry;
        return telemetry;
    }

    /// <summary>Streams <paramref name="updates"/> measured as one request (see <see cref="Start"/>).</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> MeasureStreamingAsync(
        Func<IAsyncEnumerable<ChatResponseUpdate>> updates,
        AutoGlmInstruments? instruments,
        TimeProvider time,
        string servedModelId,
        ChatOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using ChatTelemetry? telemetry = Start(instruments, time, servedModelId, options);
        IAsyncEnumerator<ChatResponseUpdate> enumerator;
        try
        {
            enumerator = updates().GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception ex)
        {
            telemetry?.OnError(ex);
            throw;
        }

        try
        {
            while (true)
            {
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception ex)
                {
                    telemetry?.OnError(ex);
                    throw;
                }

                telemetry?.OnUpdate(enumerator.Current);
                yield return enumerator.Current;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="request"/> measured as one request (see <see cref="Start"/>).</summary>
    public static async Task<ChatResponse> MeasureAsync(
        Func<Task<ChatResponse>> request,
        AutoGlmInstruments? instruments,
        TimeProvider time,
        string servedModelId,
        ChatOptions? options)
    {
        using ChatTelemetry? telemetry = Start(instruments, time, servedModelId, options);
        try
        {
            ChatResponse response = await request().ConfigureAwait(false);
            telemetry?.OnResponse(response);
            return response;
        }
        catch (Exception ex)
        {
            telemetry?.OnError(ex);
            throw;
        }
    }

    /// <summary>Records which model version served the request (set by a hosted registration's routing).</summary>
    public void OnRouted(string modelPath, bool isCandidate)
    {
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag("autoglm.model.path", modelPath);
            _activity.SetTag("autoglm.model.candidate", isCandidate);
        }
    }

    /// <summary>Records that the chat template dropped the request's tools.</summary>
    public void OnToolsDropped(int toolCount) => _activity?.SetTag("autoglm.tools.dropped", toolCount);

    public void OnUpdate(ChatResponseUpdate update)
    {
        foreach (AIContent content in update.Contents)
        {
            if (content is UsageContent usage)
            {
                AddUsage(usage.Details);
            }
        }

        _responseId ??= update.ResponseId;
        _responseModel ??= update.ModelId;
        _finishReason = update.FinishReason ?? _finishReason;
    }

    public void OnResponse(ChatResponse response)
    {
        if (response.Usage is not null)
        {
            AddUsage(response.Usage);
        }

        _responseId ??= response.ResponseId;
        _responseModel ??= response.ModelId;
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
        if (ReferenceEquals(s_current.Value, this))
        {
            s_current.Value = _previous;
        }

        RecordMetrics();
        if (_activity is null || !_ownsActivity)
        {
            return;
        }

        if (_activity.IsAllDataRequested)
        {
            _activity.SetTag("gen_ai.response.id", _responseId);
            _activity.SetTag(AutoGlmInstruments.ResponseModelTag, _responseModel);
            _activity.SetTag("gen_ai.usage.input_tokens", _inputTokens);
            _activity.SetTag("gen_ai.usage.output_tokens", _outputTokens);
            if (_finishReason is ChatFinishReason reason)
            {
                _activity.SetTag("gen_ai.response.finish_reasons", new[] { reason.Value });
            }
        }

        if (_error is not null)
        {
            _activity.SetTag(AutoGlmInstruments.ErrorTypeTag, _error.GetType().FullName);
            _activity.SetStatus(ActivityStatusCode.Error, _error.Message);
        }

        _activity.Dispose();
    }

    private void RecordMetrics()
    {
        if (_instruments is null)
        {
            return;
        }

        var tags = new TagList
        {
            { AutoGlmInstruments.OperationNameTag, AutoGlmInstruments.ChatOperation },
            { AutoGlmInstruments.ProviderNameTag, AutoGlmTelemetry.ProviderName },
            { AutoGlmInstruments.RequestModelTag, _requestModel },
        };
        if (_responseModel is not null)
        {
            tags.Add(AutoGlmInstruments.ResponseModelTag, _responseModel);
        }

        TagList durationTags = tags;
        if (_error is not null)
        {
            durationTags.Add(AutoGlmInstruments.ErrorTypeTag, _error.GetType().FullName);
        }

        _instruments.ClientOperationDuration.Record(_time.GetElapsedTime(_started).TotalSeconds, durationTags);
        RecordTokens(_inputTokens, "input", tags);
        RecordTokens(_outputTokens, "output", tags);
    }

    private void RecordTokens(long? count, string type, TagList tags)
    {
        if (count is long value)
        {
            tags.Add(AutoGlmInstruments.TokenTypeTag, type);
            _instruments!.ClientTokenUsage.Record((int)Math.Min(value, int.MaxValue), tags);
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

    private static bool IsGenAiChatSpan(Activity activity)
        => activity.GetTagItem(AutoGlmInstruments.OperationNameTag) is string operation
            ? operation == AutoGlmInstruments.ChatOperation
            : activity.OperationName == AutoGlmInstruments.ChatOperation || activity.OperationName.StartsWith("chat ", StringComparison.Ordinal);
}
