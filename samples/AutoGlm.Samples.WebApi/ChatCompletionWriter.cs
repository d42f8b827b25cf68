using System.Buffers;
using System.Text;
using System.Text.Json;
using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.WebApi;

/// <summary>Writes OpenAI's <c>chat.completion</c> and <c>chat.completion.chunk</c> objects.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class ChatCompletionWriter
{
    // Arguments go out compact (AIJsonUtilities' defaults indent), as OpenAI sends them.
    private static readonly JsonSerializerOptions s_argumentOptions = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
    private static readonly JsonWriterOptions s_writerOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string FinishReason(ChatFinishReason? reason) =>
        reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ToolCalls ? "tool_calls"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : "stop";

    /// <summary>The whole answer: <c>{"id","object":"chat.completion","created","model","choices":[...],"usage"}</c>.</summary>
    public static byte[] Completion(string id, long created, string model, ChatResponse response) => Completion(id, created, model, [response], null);

    /// <summary>
    /// The whole answer with one choice per response (<c>n</c>), each with its <c>logprobs</c> when given; the usage
    /// counts the prompt once and the completion tokens of every choice.
    /// </summary>
    public static byte[] Completion(string id, long created, string model, IReadOnlyList<ChatResponse> responses, IReadOnlyList<IReadOnlyList<ChatTokenLogProbability>>? logProbabilities)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            Header(json, id, "chat.completion", created, model);
            json.WriteStartArray("choices");
            for (int index = 0; index < responses.Count; index++)
            {
                Choice(json, index, responses[index], logProbabilities?[index]);
            }

            json.WriteEndArray();
            Usage(json, new UsageDetails
            {
                InputTokenCount = responses[0].Usage?.InputTokenCount ?? 0,
                OutputTokenCount = responses.Sum(r => r.Usage?.OutputTokenCount ?? 0),
            });
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Choice(Utf8JsonWriter json, int index, ChatResponse response, IReadOnlyList<ChatTokenLogProbability>? logProbabilities)
    {
        {
            IEnumerable<AIContent> contents = response.Messages.SelectMany(m => m.Contents);
            string text = string.Concat(contents.OfType<TextContent>().Select(c => c.Text));
            string reasoning = string.Concat(contents.OfType<TextReasoningContent>().Select(c => c.Text));
            List<FunctionCallContent> calls = [.. contents.OfType<FunctionCallContent>()];

            json.WriteStartObject();
            json.WriteNumber("index", index);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (calls.Count > 0 && text.Length == 0)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", text);
            }

            if (reasoning.Length > 0)
            {
                json.WriteString("reasoning_content", reasoning);
            }

            if (calls.Count > 0)
            {
                json.WriteStartArray("tool_calls");
                foreach (FunctionCallContent call in calls)
                {
                    ToolCall(json, index: null, call);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            LogProbabilities(json, logProbabilities);
            json.WriteString("finish_reason", FinishReason(response.FinishReason));
            json.WriteEndObject();
        }
    }

    /// <summary><c>"logprobs"</c>: null, or <c>{"content":[{"token","logprob","bytes","top_logprobs"}],"refusal":null}</c> as OpenAI writes it.</summary>
    public static void LogProbabilities(Utf8JsonWriter json, IReadOnlyList<ChatTokenLogProbability>? logProbabilities)
    {
        if (logProbabilities is null)
        {
            json.WriteNull("logprobs");
            return;
        }

        json.WriteStartObject("logprobs");
        json.WriteStartArray("content");
        foreach (ChatTokenLogProbability token in logProbabilities)
        {
            json.WriteStartObject();
            TokenFields(json, token);
            json.WriteStartArray("top_logprobs");
            foreach (ChatTokenLogProbability alternative in token.TopLogProbabilities)
            {
                json.WriteStartObject();
                TokenFields(json, alternative);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNull("refusal");
        json.WriteEndObject();
    }

    private static void TokenFields(Utf8JsonWriter json, ChatTokenLogProbability token)
    {
        json.WriteString("token", token.Token);
        json.WriteNumber("logprob", token.LogProbability);
        json.WriteStartArray("bytes");
        foreach (byte b in Encoding.UTF8.GetBytes(token.Token))
        {
            json.WriteNumberValue(b);
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// One streamed chunk. <paramref name="delta"/> writes the delta's properties; <paramref name="finishReason"/> and
    /// <paramref name="usage"/> go on the last chunks only. <paramref name="withChoice"/> false gives the usage-only chunk
    /// (<c>"choices":[]</c>).
    /// </summary>
    public static byte[] Chunk(string id, long created, string model, Action<Utf8JsonWriter>? delta, string? finishReason, UsageDetails? usage, bool withChoice = true, IReadOnlyList<ChatTokenLogProbability>? logProbabilities = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            Header(json, id, "chat.completion.chunk", created, model);
            json.WriteStartArray("choices");
            if (withChoice)
            {
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                json.WriteStartObject("delta");
                delta?.Invoke(json);
                json.WriteEndObject();
                LogProbabilities(json, logProbabilities);
                if (finishReason is null)
                {
                    json.WriteNull("finish_reason");
                }
                else
                {
                    json.WriteString("finish_reason", finishReason);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (usage is not null)
            {
                Usage(json, usage);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A tool call: <c>{"index"?,"id","type":"function","function":{"name","arguments"}}</c> with the arguments as a JSON string.</summary>
    public static void ToolCall(Utf8JsonWriter json, int? index, FunctionCallContent call)
    {
        json.WriteStartObject();
        if (index is int i)
        {
            json.WriteNumber("index", i);
        }

        json.WriteString("id", call.CallId);
        json.WriteString("type", "function");
        json.WriteStartObject("function");
        json.WriteString("name", call.Name);
        json.WriteString("arguments", JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), s_argumentOptions));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Header(Utf8JsonWriter json, string id, string kind, long created, string model)
    {
        json.WriteString("id", id);
        json.WriteString("object", kind);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteString("system_fingerprint", "autoglm");
    }

    private static void Usage(Utf8JsonWriter json, UsageDetails? usage)
    {
        long prompt = usage?.InputTokenCount ?? 0;
        long completion = usage?.OutputTokenCount ?? 0;
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", prompt);
        json.WriteNumber("completion_tokens", completion);
        json.WriteNumber("total_tokens", usage?.TotalTokenCount ?? prompt + completion);
        json.WriteEndObject();
    }
}
