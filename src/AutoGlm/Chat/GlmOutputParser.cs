using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Chat;

/// <summary>
/// Splits a streamed GLM answer into text, reasoning and tool calls:
/// a leading <c>&lt;think&gt;…&lt;/think&gt;</c> is reasoning; when tools were offered, an answer whose first line
/// is one of their names is a tool call (GLM-4: <c>{name}\n{arguments json}</c>; GLM-4-0414 may wrap it in
/// <c>&lt;tool_call&gt;…&lt;/tool_call&gt;</c>). Text is released as soon as it cannot be any of these.
/// </summary>
/// <remarks>One parser per answer; not thread-safe.</remarks>
internal sealed class GlmOutputParser
{
    private const string ThinkOpen = "<think>";
    private const string ThinkClose = "</think>";
    private const string ToolCallOpen = "<tool_call>";
    private const string ToolCallClose = "</tool_call>";

    private readonly HashSet<string> _toolNames;
    private readonly bool _parseReasoning;
    private readonly StringBuilder _pending = new();
    private State _state;
    private int _callCount;

    public GlmOutputParser(IEnumerable<string> toolNames, bool parseReasoning)
    {
        _toolNames = new HashSet<string>(toolNames, StringComparer.Ordinal);
        _parseReasoning = parseReasoning;
        _state = parseReasoning ? State.Start : State.AfterReasoning;
    }

    private enum State
    {
        Start,
        Reasoning,
        AfterReasoning,
        ToolCall,
        Text,
    }

    /// <summary>Whether the answer turned out to be a tool call.</summary>
    public bool SawToolCall { get; private set; }

    /// <summary>Adds generated text; returns the contents it completes (possibly none).</summary>
    public IList<AIContent> Append(string text)
    {
        var output = new List<AIContent>();
        _pending.Append(text);
        Drain(output, final: false);
        return output;
    }

    /// <summary>Ends the answer; returns what was held back (a tool call is parsed here).</summary>
    public IList<AIContent> Complete()
    {
        var output = new List<AIContent>();
        Drain(output, final: true);
        if (_state == State.ToolCall)
        {
            output.Add(ParseToolCall(_pending.ToString()));
            _pending.Clear();
        }
        else if (_pending.Length > 0)
        {
            output.Add(_state == State.Reasoning ? new TextReasoningContent(_pending.ToString()) : new TextContent(_pending.ToString()));
            _pending.Clear();
        }

        return output;
    }

    private void Drain(List<AIContent> output, bool final)
    {
        while (true)
        {
            string pending = _pending.ToString();
            switch (_state)
            {
                case State.Start:
                {
                    string trimmed = pending.TrimStart();
                    if (trimmed.StartsWith(ThinkOpen, StringComparison.Ordinal))
                    {
                        _pending.Clear().Append(trimmed[ThinkOpen.Length..]);
                        _state = State.Reasoning;
                        continue;
                    }

                    if (!final && ThinkOpen.StartsWith(trimmed, StringComparison.Ordinal))
                    {
                        return; // could still become <think>
                    }

                    _state = State.AfterReasoning;
                    continue;
                }

                case State.Reasoning:
                {
                    int close = pending.IndexOf(ThinkClose, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        if (close > 0)
                        {
                            output.Add(new TextReasoningContent(pending[..close]));
                        }

                        _pending.Clear().Append(pending[(close + ThinkClose.Length)..].TrimStart('\n'));
                        _state = State.AfterReasoning;
                        continue;
                    }

                    int keep = final ? 0 : PartialSuffix(pending, ThinkClose);
                    if (pending.Length - keep > 0)
                    {
                        output.Add(new TextReasoningContent(pending[..^keep]));
                        _pending.Remove(0, pending.Length - keep);
                    }

                    return;
                }

                case State.AfterReasoning:
                {
                    if (_toolNames.Count == 0)
                    {
                        _state = State.Text;
                        continue;
                    }

                    string head = pending.TrimStart();
                    if (head.StartsWith(ToolCallOpen, StringComparison.Ordinal) || StartsWithToolName(head))
                    {
                        _state = State.ToolCall;
                        SawToolCall = true;
                        return;
                    }

                    if (!final && CouldStillBeToolCall(head))
                    {
                        return;
                    }

                    _state = State.Text;
                    continue;
                }

                case State.ToolCall:
                    return; // held until the end, then parsed

                case State.Text:
                    if (pending.Length > 0)
                    {
                        output.Add(new TextContent(pending));
                        _pending.Clear();
                    }

                    return;
            }
        }
    }

    private bool StartsWithToolName(string head)
    {
        int newline = head.IndexOf('\n', StringComparison.Ordinal);
        return newline > 0 && _toolNames.Contains(head[..newline].Trim());
    }

    private bool CouldStillBeToolCall(string head)
    {
        if (head.Length == 0 || ToolCallOpen.StartsWith(head, StringComparison.Ordinal))
        {
            return true;
        }

        if (head.Contains('\n', StringComparison.Ordinal))
        {
            return false;
        }

        return _toolNames.Any(name => name.StartsWith(head.Trim(), StringComparison.Ordinal));
    }

    private FunctionCallContent ParseToolCall(string raw)
    {
        string body = raw.Trim();
        string callId = $"call_{++_callCount}";
        if (body.StartsWith(ToolCallOpen, StringComparison.Ordinal))
        {
            body = body[ToolCallOpen.Length..];
            int end = body.IndexOf(ToolCallClose, StringComparison.Ordinal);
            body = (end >= 0 ? body[..end] : body).Trim();
            if (body.StartsWith('{'))
            {
                // {"name": ..., "arguments": {...}}
                try
                {
                    using JsonDocument document = JsonDocument.Parse(body);
                    string name = document.RootElement.GetProperty("name").GetString() ?? string.Empty;
                    Dictionary<string, object?> arguments = document.RootElement.TryGetProperty("arguments", out JsonElement args) ? ToDictionary(args) : [];
                    return new FunctionCallContent(callId, name, arguments);
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    return new FunctionCallContent(callId, string.Empty) { Exception = new AutoGlmException($"The model's tool call is not valid JSON: {body}", ex) };
                }
            }
        }

        int newline = body.IndexOf('\n', StringComparison.Ordinal);
        string functionName = (newline < 0 ? body : body[..newline]).Trim();
        string json = newline < 0 ? "{}" : body[(newline + 1)..].Trim();
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.Length == 0 ? "{}" : json);
            return new FunctionCallContent(callId, functionName, ToDictionary(document.RootElement));
        }
        catch (JsonException ex)
        {
            return new FunctionCallContent(callId, functionName)
            {
                Exception = new AutoGlmException($"The model called '{functionName}' with arguments that are not valid JSON: {json}", ex),
            };
        }
    }

    private static Dictionary<string, object?> ToDictionary(JsonElement element)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                result[property.Name] = property.Value.Clone();
            }
        }

        return result;
    }

    /// <summary>How many characters at the end of <paramref name="text"/> could begin <paramref name="marker"/>.</summary>
    private static int PartialSuffix(string text, string marker)
    {
        for (int length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
