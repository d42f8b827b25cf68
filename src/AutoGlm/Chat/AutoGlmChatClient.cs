using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AutoGlm.Diagnostics;
using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Tokenization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AutoGlm.Chat;

/// <summary>
/// An <see cref="IChatClient"/> over a <see cref="GlmModel"/>: renders the conversation with the model's own chat
/// template (<c>tokenizer_config.json</c>; the built-in GLM-4 or GLM-Edge format when it has none),
/// generates with the request's options, and streams back text, reasoning (<c>&lt;think&gt;</c>), tool calls,
/// usage and the finish reason. <see cref="GetResponseAsync"/> is built on the streaming path.
/// </summary>
/// <remarks>
/// <para>Thread-safe: any number of concurrent requests share the model and are batched together.
/// Structure is guaranteed by constrained decoding, not asked for and hoped: <see cref="ChatOptions.ResponseFormat"/>
/// <see cref="ChatResponseFormat.Json"/> constrains the answer to a JSON object, a JSON schema to values of the schema
/// (see <see cref="GenerationConstraint.FromJsonSchema"/> for the keywords enforced), and <see cref="ChatToolMode.RequireAny"/>
/// or a required function name to one GLM tool call whose arguments match the function's parameter schema.
/// <c>AdditionalProperties["top_logprobs"]</c> (0–20) or <c>["logprobs"] = true</c> attach
/// <see cref="ChatTokenLogProbability"/> lists to the updates under <see cref="LogProbabilitiesKey"/>.
/// Every <see cref="ChatOptions"/> field is honoured or rejected with <see cref="NotSupportedException"/>:
/// <see cref="ChatOptions.ConversationId"/> and <see cref="ChatOptions.ContinuationToken"/> (AutoGlm keeps no
/// server-side state; send the history), <see cref="ChatOptions.AllowBackgroundResponses"/> and a
/// <see cref="ChatOptions.ModelId"/> other than this model's id or one of its <see cref="AutoGlmChatClientOptions.ModelAliases"/> are rejected;
/// <see cref="ChatOptions.RawRepresentationFactory"/> and <see cref="ChatOptions.Reasoning"/> are ignored (GLM decides by itself whether to think).</para>
/// <para>Each request is one <c>chat {model}</c> span on the <see cref="AutoGlmTelemetry.ActivitySourceName"/> source and, when the model was
/// loaded with a <see cref="GlmModelOptions.MeterFactory"/>, <c>gen_ai.client.operation.duration</c> and <c>gen_ai.client.token.usage</c>
/// on its meter (see <see cref="AutoGlmTelemetry"/>).</para>
/// <para>When tools are given but the chat template renders a prompt that names none of them (a template without tool support),
/// the tools cannot reach the model: a warning is logged and the response's <c>AdditionalProperties</c> carry
/// <see cref="ToolsDroppedPropertyName"/> with the names of the dropped tools.</para>
/// </remarks>
public sealed class AutoGlmChatClient : IChatClient
{
    /// <summary>
    /// The key of <c>ChatResponse.AdditionalProperties</c> (and of the last streamed update's) that lists, as a string array, the tools
    /// the chat template left out of the prompt: <c>autoglm.tools_dropped</c>.
    /// </summary>
    public const string ToolsDroppedPropertyName = "autoglm.tools_dropped";
    /// <summary>The <see cref="ChatResponseUpdate.AdditionalProperties"/> key of the updates' <see cref="ChatTokenLogProbability"/> lists.</summary>
    public const string LogProbabilitiesKey = "logprobs";

    private const string JsonInstruction = "Answer with one JSON value only, with no text before or after it.";

    private readonly GlmModel _model;
    private readonly AutoGlmChatClientOptions _options;
    private readonly bool _ownsModel;
    private readonly ChatTemplate _template;
    private readonly bool _chatGlm3;
    private readonly ChatClientMetadata _metadata;
    private readonly AutoGlmInstruments? _instruments;
    private readonly ILogger _logger;

    /// <summary>Creates a client over <paramref name="model"/>.</summary>
    /// <param name="model">The model; shared, not owned unless <paramref name="ownsModel"/>.</param>
    /// <param name="options">Defaults and behaviour.</param>
    /// <param name="ownsModel">Whether disposing the client disposes the model.</param>
    public AutoGlmChatClient(GlmModel model, AutoGlmChatClientOptions? options = null, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _options = options ?? new AutoGlmChatClientOptions();
        if (_options.DefaultMaxOutputTokens is < 1 or > Models.ModelLimits.MaxContextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.DefaultMaxOutputTokens, $"AutoGlmChatClientOptions.DefaultMaxOutputTokens must be between 1 and {Models.ModelLimits.MaxContextLength}; got {_options.DefaultMaxOutputTokens}.");
        }

        _options.TemplateLimits?.Validate();
        _ownsModel = ownsModel;
        ModelId = _options.ModelId ?? Path.GetFileName(model.Info.FolderPath.TrimEnd(Path.DirectorySeparatorChar));
        // The model's own chat_template first; else the built-in GLM format (GLM-Edge's has no [gMASK]<sop>,
        // and a tokenizer without those tokens is such a model).
        _template = _options.ChatTemplate
            ?? ChatTemplate.FromModelFolder(model.Info.FolderPath, null, _options.TemplateLimits)
            ?? (model.Tokenizer.TokenToId("[gMASK]") is not null && model.Tokenizer.TokenToId("<sop>") is not null ? ChatTemplate.Glm4 : ChatTemplate.GlmEdge)
                .WithLimits(_options.TemplateLimits ?? TemplateLimits.Default);
        // ChatGLM3 builds its prompt from ids (build_chat_input), which no text template reproduces.
        _chatGlm3 = _options.ChatTemplate is null && model.Tokenizer.IsChatGlm3;
        _metadata = new ChatClientMetadata(AutoGlmTelemetry.ProviderName, providerUri: null, defaultModelId: ModelId);
        _instruments = AutoGlmInstruments.For(model.Options.MeterFactory);
        _logger = (model.Options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AutoGlmChatClient>();
    }

    /// <summary>The chat template prompts are rendered with.</summary>
    public ChatTemplate Template => _template;

    /// <summary>The model id reported in responses.</summary>
    public string ModelId { get; }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // A JSON response format is enforced while generating (constrained decoding), so the text needs no check here.
        ChatResponse response = await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);
        foreach (ChatMessage message in response.Messages)
        {
            // The streamed update carries the warning; the response keeps it where callers look for response metadata.
            if (message.AdditionalProperties?.TryGetValue(ToolsDroppedPropertyName, out object? dropped) == true)
            {
                (response.AdditionalProperties ??= [])[ToolsDroppedPropertyName] = dropped;
            }
        }

        return response;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return ChatTelemetry.MeasureStreamingAsync(
            () => StreamAsync(messages, options, cancellationToken), _instruments, _model.Options.TimeProvider, ModelId, options, cancellationToken);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IReadOnlyList<ChatMessage> history = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        if (history.Count == 0)
        {
            throw new ArgumentException("At least one message is required.", nameof(messages));
        }

        GenerationOptions generation = MapOptions(options);
        IList<AITool>? tools = options?.ToolMode is NoneChatToolMode ? null : options?.Tools;
        string? formatInstruction = options?.ResponseFormat switch
        {
            ChatResponseFormatJson { Schema: { } schema } => $"{JsonInstruction} It must match this JSON schema: {schema.GetRawText()}",
            ChatResponseFormatJson => JsonInstruction,
            _ => null,
        };
        if (options?.ToolMode is RequiredChatToolMode { RequiredFunctionName: { } required })
        {
            formatInstruction = (formatInstruction is null ? string.Empty : formatInstruction + "\n") + $"You must call the function '{required}'.";
        }

        List<ChatTemplateTool>? templateTools = ChatMessageConverter.ToTemplateTools(tools);
        List<ChatTemplateMessage> templateMessages = ChatMessageConverter.ToTemplateMessages(history, options?.Instructions, formatInstruction, templateTools);
        string prompt;
        IReadOnlyList<int> promptIds;
        if (_chatGlm3)
        {
            (promptIds, prompt) = ChatGlm3Prompt.Build(_model.Tokenizer, templateMessages, templateTools);
        }
        else
        {
            prompt = _template.Render(templateMessages, addGenerationPrompt: true, templateTools);
            promptIds = _model.Tokenizer.Encode(prompt);
        }

        string[] droppedTools = DroppedTools(templateTools, prompt);
        if (droppedTools.Length > 0)
        {
            AutoGlmChatClientLog.ToolsDropped(_logger, droppedTools.Length, ModelId, string.Join(", ", droppedTools));
            ChatTelemetry.Current?.OnToolsDropped(droppedTools.Length);
        }

        var parser = new GlmOutputParser(tools?.OfType<AIFunctionDeclaration>().Select(f => f.Name) ?? [], _options.ParseReasoning);
        string responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        string messageId = "msg-" + Guid.NewGuid().ToString("N");
        DateTimeOffset created = DateTimeOffset.UtcNow;
        int completionTokens = 0;
        FinishReason? finish = null;
        List<ChatTokenLogProbability>? logProbabilities = generation.TopLogProbabilities is null ? null : [];

        await foreach (GeneratedToken token in _model.GenerateStreamingAsync(promptIds, generation, cancellationToken).ConfigureAwait(false))
        {
            completionTokens++;
            finish = token.FinishReason;
            if (logProbabilities is not null && token.LogProbability is float chosen && !(token.IsLast && _model.Tokenizer.IsSpecial(token.Id)))
            {
                logProbabilities.Add(new ChatTokenLogProbability(
                    TokenText(token.Id),
                    chosen,
                    [.. token.TopLogProbabilities!.Select(t => new ChatTokenLogProbability(TokenText(t.Id), t.LogProbability, []))]));
            }

            if (token.Text.Length > 0)
            {
                IList<AIContent> contents = parser.Append(token.Text);
                if (contents.Count > 0)
                {
                    ChatResponseUpdate update = Update(contents, responseId, messageId, created);
                    if (logProbabilities is { Count: > 0 })
                    {
                        (update.AdditionalProperties ??= [])[LogProbabilitiesKey] = logProbabilities;
                        logProbabilities = [];
                    }

                    yield return update;
                }
            }
        }

        List<AIContent> tail = [.. parser.Complete()];
        tail.Add(new UsageContent(new UsageDetails
        {
            InputTokenCount = promptIds.Count,
            OutputTokenCount = completionTokens,
            TotalTokenCount = promptIds.Count + completionTokens,
        }));
        ChatResponseUpdate last = Update(tail, responseId, messageId, created);
        if (logProbabilities is { Count: > 0 })
        {
            (last.AdditionalProperties ??= [])[LogProbabilitiesKey] = logProbabilities;
        }

        last.FinishReason = parser.SawToolCall ? ChatFinishReason.ToolCalls : finish switch
        {
            FinishReason.Length => ChatFinishReason.Length,
            _ => ChatFinishReason.Stop,
        };
        if (droppedTools.Length > 0)
        {
            (last.AdditionalProperties ??= [])[ToolsDroppedPropertyName] = droppedTools;
        }

        yield return last;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType == typeof(GlmModelInfo))
        {
            return _model.Info;
        }

        if (serviceType.IsInstanceOfType(_model))
        {
            return _model;
        }

        if (serviceType.IsInstanceOfType(_model.Tokenizer))
        {
            return _model.Tokenizer;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }

    /// <summary>Turns chat options into generation options, rejecting what AutoGlm cannot honour.</summary>
    internal GenerationOptions MapOptions(ChatOptions? options)
    {
        if (options is null)
        {
            return new GenerationOptions { MaxNewTokens = _options.DefaultMaxOutputTokens, TelemetryOperationName = AutoGlmInstruments.ChatOperation, TelemetryModelId = ModelId };
        }

        if (options.ConversationId is not null)
        {
            throw new NotSupportedException($"ChatOptions.ConversationId ('{options.ConversationId}') is not supported: AutoGlm keeps no conversation state; send the whole history with each request.");
        }

        if (options.ContinuationToken is not null || options.AllowBackgroundResponses == true)
        {
            throw new NotSupportedException("Background responses (ChatOptions.AllowBackgroundResponses, ContinuationToken) are not supported: AutoGlm streams every response in the foreground.");
        }

        if (options.ModelId is not null && !string.Equals(options.ModelId, ModelId, StringComparison.Ordinal) && !_options.ModelAliases.Contains(options.ModelId, StringComparer.Ordinal))
        {
            string aliases = _options.ModelAliases.Count == 0 ? "no aliases" : "aliases '" + string.Join("', '", _options.ModelAliases) + "'";
            throw new NotSupportedException(
                $"ChatOptions.ModelId is '{options.ModelId}', but this client serves '{ModelId}' ({aliases}). Leave ModelId unset, " +
                $"add '{options.ModelId}' to AutoGlmChatClientOptions.ModelAliases (AutoGlm:ModelAliases when hosted), or use the client registered for that model.");
        }

        if (options.ResponseFormat is not (null or ChatResponseFormatText or ChatResponseFormatJson))
        {
            throw new NotSupportedException($"ChatOptions.ResponseFormat {options.ResponseFormat.GetType().Name} is not supported; use Text or Json.");
        }

        if (options.ToolMode is RequiredChatToolMode && (options.Tools is null || options.Tools.Count == 0))
        {
            throw new ArgumentException("ChatOptions.ToolMode requires a tool call, but ChatOptions.Tools is empty.", nameof(options));
        }

        GenerationConstraint? constraint = ConstraintFor(options);
        int? topLogProbabilities = options.AdditionalProperties?.TryGetValue("top_logprobs", out int top) == true ? top
            : options.AdditionalProperties?.TryGetValue("logprobs", out bool wanted) == true && wanted ? 0
            : null;
        int maxTokens = options.MaxOutputTokens ?? _options.DefaultMaxOutputTokens;
        if (maxTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), maxTokens, $"ChatOptions.MaxOutputTokens must be at least 1, not {maxTokens}.");
        }

        return new GenerationOptions
        {
            MaxNewTokens = maxTokens,
            Temperature = options.Temperature ?? 1f,
            TopP = options.TopP ?? 1f,
            TopK = options.TopK ?? 0,
            FrequencyPenalty = options.FrequencyPenalty ?? 0f,
            PresencePenalty = options.PresencePenalty ?? 0f,
            Seed = options.Seed,
            StopSequences = options.StopSequences?.ToArray() ?? [],
            MinP = AdditionalNumber(options, "min_p", 0f),
            RepetitionPenalty = AdditionalNumber(options, "repetition_penalty", 1f),
            TelemetryOperationName = AutoGlmInstruments.ChatOperation,
            TelemetryModelId = ModelId,
            Constraint = constraint,
            TopLogProbabilities = topLogProbabilities,
        };
    }

    /// <summary>The constraint a request's tool mode or response format asks for; null for free text.</summary>
    /// <exception cref="GrammarException">A schema cannot be enforced (the message names the keyword and path).</exception>
    private static GenerationConstraint? ConstraintFor(ChatOptions options)
    {
        if (options.ToolMode is RequiredChatToolMode required)
        {
            List<AIFunctionDeclaration> functions = [.. options.Tools!.OfType<AIFunctionDeclaration>()];
            if (required.RequiredFunctionName is { } name)
            {
                functions = [.. functions.Where(f => string.Equals(f.Name, name, StringComparison.Ordinal))];
                if (functions.Count == 0)
                {
                    throw new ArgumentException($"ChatOptions.ToolMode requires the function '{name}', but ChatOptions.Tools has no function of that name; add it or name one of: {string.Join(", ", options.Tools!.Select(t => t.Name))}.", nameof(options));
                }
            }
            else if (functions.Count == 0)
            {
                throw new ArgumentException("ChatOptions.ToolMode requires a tool call, but ChatOptions.Tools holds no function declaration.", nameof(options));
            }

            if (options.StopSequences is { Count: > 0 })
            {
                throw new NotSupportedException("ChatOptions.StopSequences cannot be combined with a required tool call: a stop sequence could cut the call short.");
            }

            return GenerationConstraint.ToolCall(functions.Select(f => new KeyValuePair<string, JsonElement?>(f.Name, IsEmptySchema(f.JsonSchema) ? null : f.JsonSchema)));
        }

        if (options.ResponseFormat is ChatResponseFormatJson json)
        {
            if (options.StopSequences is { Count: > 0 })
            {
                throw new NotSupportedException("ChatOptions.StopSequences cannot be combined with a JSON response format: a stop sequence could cut the JSON short.");
            }

            return json.Schema is { } schema ? GenerationConstraint.FromJsonSchema(schema) : GenerationConstraint.JsonObject;
        }

        return null;
    }

    private static bool IsEmptySchema(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Undefined || (schema.ValueKind == JsonValueKind.Object && !schema.EnumerateObject().Any());

    // The token's own text: a SentencePiece token "▁Hello" is " Hello" here, though it starts the reply as "Hello".
    private string TokenText(int id) => System.Text.Encoding.UTF8.GetString(_model.Tokenizer.GetTokenBytes(id, 0));

    /// <summary>A number from <c>ChatOptions.AdditionalProperties</c>; a value that is not one is refused, never ignored.</summary>
    private static float AdditionalNumber(ChatOptions options, string key, float fallback)
    {
        if (options.AdditionalProperties is not { } properties || !properties.TryGetValue(key, out object? raw) || raw is null)
        {
            return fallback;
        }

        if (raw is System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Number } element)
        {
            return element.GetSingle();
        }

        if (raw is not string && properties.TryGetValue(key, out float value))
        {
            return value;
        }

        throw new ArgumentException(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ChatOptions.AdditionalProperties[\"{key}\"] must be a number, not {raw.GetType().Name} '{raw}'."),
            key);
    }

    private ChatResponseUpdate Update(IList<AIContent> contents, string responseId, string messageId, DateTimeOffset created) => new(ChatRole.Assistant, contents)
    {
        ResponseId = responseId,
        MessageId = messageId,
        CreatedAt = created,
        ModelId = ModelId,
    };

    /// <summary>The tools the rendered prompt does not name: a template without tool support drops them silently.</summary>
    private static string[] DroppedTools(List<ChatTemplateTool>? tools, string prompt)
    {
        if (tools is null || tools.Count == 0)
        {
            return [];
        }

        return [.. tools.Where(t => !prompt.Contains(t.Name, StringComparison.Ordinal)).Select(t => t.Name)];
    }
}
