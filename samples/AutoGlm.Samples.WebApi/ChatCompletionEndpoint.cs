using System.Text;
using System.Text.Json;
using AutoGlm.Chat;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// <c>POST /v1/chat/completions</c>: validates the body, asks the registered <see cref="IChatClient"/>, and answers
/// with one <c>chat.completion</c> or, for <c>stream: true</c>, server-sent <c>chat.completion.chunk</c> events
/// ending with <c>data: [DONE]</c>.
/// </summary>
/// <remarks>
/// Stateless and thread-safe. The first update is awaited before any byte is sent, so a full queue (429) or a bad
/// option (400) is still a plain HTTP error even for streaming requests; failures after that arrive as an
/// <c>{"error":...}</c> event.
/// </remarks>
public static class ChatCompletionEndpoint
{
    private static readonly byte[] s_dataPrefix = "data: "u8.ToArray();
    private static readonly byte[] s_eventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task<IResult> HandleAsync(HttpContext context, IChatClient client, ServedModel served, IOptions<OpenAiApiOptions> options, ILoggerFactory loggers)
    {
        CancellationToken aborted = context.RequestAborted;
        ILogger logger = loggers.CreateLogger("AutoGlm.Samples.WebApi.ChatCompletions");
        ChatCompletionRequest request;
        try
        {
            byte[] body = await RequestBody.ReadAsync(context.Request, options.Value.MaxRequestBodyBytes, aborted);
            request = ChatCompletionRequest.Parse(body, options.Value);
            if (request.Model is not null && !string.Equals(request.Model, served.Id, StringComparison.Ordinal))
            {
                throw new OpenAiRequestException(404, $"The model '{request.Model}' does not exist; this server serves '{served.Id}' (see GET /v1/models).", "invalid_request_error", "model", "model_not_found");
            }
        }
        catch (OpenAiRequestException error)
        {
            return error.ToResult();
        }

        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!request.Stream)
        {
            // n choices run as n requests at once, so the scheduler batches them; each gets its own seed (seed + i).
            Task<List<ChatResponseUpdate>>[] choices = [.. Enumerable.Range(0, request.ChoiceCount).Select(i => CollectAsync(client, request, i, aborted))];
            List<ChatResponseUpdate>[] collected;
            try
            {
                collected = await Task.WhenAll(choices);
            }
            catch (Exception ex) when (Translate(ex, request) is OpenAiRequestException error)
            {
                if (error.StatusCode >= 500)
                {
                    logger.LogError(ex, "Chat completion {Id} failed.", id);
                }

                return error.ToResult();
            }

            ChatResponse[] responses = [.. collected.Select(updates => updates.ToChatResponse())];
            List<ChatTokenLogProbability>[]? logProbabilities = request.LogProbabilities ? [.. collected.Select(updates => updates.SelectMany(LogProbabilitiesOf).ToList())] : null;
            return Results.Bytes(ChatCompletionWriter.Completion(id, created, responses[0].ModelId ?? served.Id, responses, logProbabilities), "application/json");
        }

        IAsyncEnumerator<ChatResponseUpdate> updates = client.GetStreamingResponseAsync(request.Messages, request.Options, aborted).GetAsyncEnumerator(aborted);
        await using (updates)
        {
            bool any;
            try
            {
                any = await updates.MoveNextAsync();
            }
            catch (Exception ex) when (Translate(ex, request) is OpenAiRequestException error)
            {
                if (error.StatusCode >= 500)
                {
                    logger.LogError(ex, "Chat completion {Id} failed before its first token.", id);
                }

                return error.ToResult();
            }

            await StreamAsync(context.Response, updates, any, request, id, created, served.Id, logger, aborted);
            return Results.Empty;
        }
    }

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IChatClient client, ChatCompletionRequest request, int choice, CancellationToken aborted)
    {
        ChatOptions options = request.Options;
        if (choice > 0)
        {
            options = options.Clone();
            options.Seed = options.Seed is long seed ? unchecked(seed + choice) : null;
        }

        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(request.Messages, options, aborted))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static IReadOnlyList<ChatTokenLogProbability> LogProbabilitiesOf(ChatResponseUpdate update) =>
        update.AdditionalProperties?.TryGetValue(AutoGlmChatClient.LogProbabilitiesKey, out object? value) == true && value is IReadOnlyList<ChatTokenLogProbability> list ? list : [];

    private static async Task StreamAsync(HttpResponse http, IAsyncEnumerator<ChatResponseUpdate> updates, bool any, ChatCompletionRequest request, string id, long created, string model, ILogger logger, CancellationToken aborted)
    {
        bool includeUsage = request.IncludeUsage;
        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = "text/event-stream; charset=utf-8";
        http.Headers.CacheControl = "no-cache";
        http.Headers["X-Accel-Buffering"] = "no";

        await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, static json => { json.WriteString("role", "assistant"); json.WriteString("content", string.Empty); }, null, null), aborted);
        ChatFinishReason? finish = null;
        UsageDetails? usage = null;
        int toolIndex = 0;
        try
        {
            while (any)
            {
                ChatResponseUpdate update = updates.Current;
                finish = update.FinishReason ?? finish;
                IReadOnlyList<ChatTokenLogProbability>? logProbabilities = request.LogProbabilities ? LogProbabilitiesOf(update) : null;
                foreach (AIContent content in update.Contents)
                {
                    switch (content)
                    {
                        case TextContent { Text.Length: > 0 } text:
                            await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, json => json.WriteString("content", text.Text), null, null, logProbabilities: logProbabilities), aborted);
                            logProbabilities = null;
                            break;
                        case TextReasoningContent { Text.Length: > 0 } reasoning:
                            await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, json => json.WriteString("reasoning_content", reasoning.Text), null, null), aborted);
                            break;
                        case FunctionCallContent call:
                            int index = toolIndex++;
                            await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, json =>
                            {
                                json.WriteStartArray("tool_calls");
                                ChatCompletionWriter.ToolCall(json, index, call);
                                json.WriteEndArray();
                            }, null, null), aborted);
                            break;
                        case UsageContent used:
                            usage = used.Details;
                            break;
                    }
                }

                if (logProbabilities is { Count: > 0 })
                {
                    // Tokens that released no text of their own (a held tool call, reasoning): report them on an empty delta.
                    await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, null, null, null, logProbabilities: logProbabilities), aborted);
                }

                any = await updates.MoveNextAsync();
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (Translate(ex, request) is OpenAiRequestException error)
        {
            logger.LogError(ex, "Chat completion {Id} failed while streaming.", id);
            await WriteEventAsync(http, JsonSerializer.SerializeToUtf8Bytes(error.ToBody()), aborted);
            await http.Body.WriteAsync(s_done, aborted);
            return;
        }

        await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, null, ChatCompletionWriter.FinishReason(finish), null), aborted);
        if (includeUsage)
        {
            await WriteEventAsync(http, ChatCompletionWriter.Chunk(id, created, model, null, null, usage ?? new UsageDetails(), withChoice: false), aborted);
        }

        await http.Body.WriteAsync(s_done, aborted);
        await http.Body.FlushAsync(aborted);
    }

    private static async Task WriteEventAsync(HttpResponse http, byte[] json, CancellationToken aborted)
    {
        await http.Body.WriteAsync(s_dataPrefix, aborted);
        await http.Body.WriteAsync(json, aborted);
        await http.Body.WriteAsync(s_eventEnd, aborted);
        await http.Body.FlushAsync(aborted);
    }

    /// <summary>The request field behind a <see cref="ArgumentException.ParamName"/> of the library's options.</summary>
    private static string RequestField(string? paramName) => paramName switch
    {
        "TopP" => "top_p",
        "TopK" => "top_k",
        "MinP" or "min_p" => "min_p",
        "Temperature" => "temperature",
        "FrequencyPenalty" => "frequency_penalty",
        "PresencePenalty" => "presence_penalty",
        "RepetitionPenalty" or "repetition_penalty" => "repetition_penalty",
        "MaxNewTokens" => "max_tokens",
        "StopSequences" => "stop",
        "StopTokenIds" => "stop",
        "Seed" => "seed",
        "Tools" or "ToolMode" => "tools",
        _ => "messages",
    };

    /// <summary>Maps what the chat client throws to the HTTP error a client should see; null lets it propagate.</summary>
    private static OpenAiRequestException? Translate(Exception ex, ChatCompletionRequest request) => ex switch
    {
        OperationCanceledException => null,
        QueueFullException full => OpenAiRequestException.QueueFull(full.Message),
        ContextLengthExceededException tooLong => OpenAiRequestException.Invalid(
            tooLong.Message.Replace($" (Parameter '{tooLong.ParamName}')", string.Empty, StringComparison.Ordinal), "messages", "context_length_exceeded"),
        GrammarException grammar => OpenAiRequestException.Invalid(
            grammar.Message,
            grammar.Keyword == "maxTokens" ? "max_tokens" : request.Options.ToolMode is RequiredChatToolMode ? "tools" : "response_format",
            "invalid_value"),
        NotSupportedException => OpenAiRequestException.Invalid(ex.Message, null, "unsupported_value"),
        // An option the model refuses names the request field it came from; the model rejects prompts that leave no
        // room in its context (or render to nothing), with a message stating both lengths.
        ArgumentException argument => OpenAiRequestException.Invalid(
            argument.ParamName is null ? argument.Message : argument.Message.Replace($" (Parameter '{argument.ParamName}')", string.Empty, StringComparison.Ordinal),
            RequestField(argument.ParamName),
            "invalid_value"),
        // A chat template that rejects the conversation (raise_exception) or crosses its sandbox limits.
        TokenizerException => OpenAiRequestException.Invalid(ex.Message, "messages", "invalid_value"),
        // Loading failed, or the host is stopping or unloading: the request may succeed elsewhere or later.
        ModelLoadException or ObjectDisposedException => new OpenAiRequestException(503, $"The model is not available: {ex.Message}", "server_error", null, "model_unavailable"),
        AutoGlmException when ex.GetType() == typeof(AutoGlmException) => new OpenAiRequestException(503, $"The model is not available: {ex.Message}", "server_error", null, "model_unavailable"),
        _ => new OpenAiRequestException(500, $"The model failed: {ex.Message}", "server_error", null, null),
    };
}
