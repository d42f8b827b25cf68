using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Tokenization;
using Microsoft.Extensions.AI;

namespace AutoGlm.Chat;

/// <summary>
/// An <see cref="IChatClient"/> over a <see cref="GlmModel"/>: renders the conversation with the model's own chat
/// template (<c>tokenizer_config.json</c>; the built-in GLM-4 or GLM-Edge format when it has none),
/// generates with the request's options, and streams back text, reasoning (<c>&lt;think&gt;</c>), tool calls,
/// usage and the finish reason. <see cref="GetResponseAsync"/> is built on the streaming path.
/// </summary>
/// <remarks>
/// Thread-safe: any number of concurrent requests share the model and are batched together.
/// Every <see cref="ChatOptions"/> field is honoured or rejected with <see cref="NotSupportedException"/>:
/// <see cref="ChatOptions.ConversationId"/> and <see cref="ChatOptions.ContinuationToken"/> (AutoGlm keeps no
/// server-side state; send the history), <see cref="ChatOptions.AllowBackgroundResponses"/> and a
/// <see cref="ChatOptions.ModelId"/> other than this model's are rejected; <see cref="ChatOptions.RawRepresentationFactory"/>
/// and <see cref="ChatOptions.Reasoning"/> are ignored (GLM decides by itself whether to think).
/// </remarks>
public sealed class AutoGlmChatClient : IChatClient
{
    private const string JsonInstruction = "Answer with one JSON value only, with no text before or after it.";

    private readonly GlmModel _model;
    private readonly AutoGlmChatClientOptions _options;
    private readonly bool _ownsModel;
    private readonly ChatTemplate _template;
    private readonly ChatClientMetadata _metadata;

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
        _metadata = new ChatClientMetadata("autoglm", providerUri: null, defaultModelId: ModelId);
    }

    /// <summary>The chat template prompts are rendered with.</summary>
    public ChatTemplate Template => _template;

    /// <summary>The model id reported in responses.</summary>
    public string ModelId { get; }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatResponse response = await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);
        if (options?.ResponseFormat is ChatResponseFormatJson && response.FinishReason == ChatFinishReason.Stop)
        {
            EnsureJson(response.Text);
        }

        return response;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
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
        string prompt = _template.Render(
            ChatMessageConverter.ToTemplateMessages(history, options?.Instructions, formatInstruction, templateTools),
            addGenerationPrompt: true,
            templateTools);
        IReadOnlyList<int> promptIds = _model.Tokenizer.Encode(prompt);
        var parser = new GlmOutputParser(tools?.OfType<AIFunctionDeclaration>().Select(f => f.Name) ?? [], _options.ParseReasoning);
        string responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        string messageId = "msg-" + Guid.NewGuid().ToString("N");
        DateTimeOffset created = DateTimeOffset.UtcNow;
        int completionTokens = 0;
        FinishReason? finish = null;

        await foreach (GeneratedToken token in _model.GenerateStreamingAsync(promptIds, generation, cancellationToken).ConfigureAwait(false))
        {
            completionTokens++;
            finish = token.FinishReason;
            if (token.Text.Length > 0)
            {
                IList<AIContent> contents = parser.Append(token.Text);
                if (contents.Count > 0)
                {
                    yield return Update(contents, responseId, messageId, created);
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
        last.FinishReason = parser.SawToolCall ? ChatFinishReason.ToolCalls : finish switch
        {
            FinishReason.Length => ChatFinishReason.Length,
            _ => ChatFinishReason.Stop,
        };
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
            return new GenerationOptions { MaxNewTokens = _options.DefaultMaxOutputTokens };
        }

        if (options.ConversationId is not null)
        {
            throw new NotSupportedException($"ChatOptions.ConversationId ('{options.ConversationId}') is not supported: AutoGlm keeps no conversation state; send the whole history with each request.");
        }

        if (options.ContinuationToken is not null || options.AllowBackgroundResponses == true)
        {
            throw new NotSupportedException("Background responses (ChatOptions.AllowBackgroundResponses, ContinuationToken) are not supported: AutoGlm streams every response in the foreground.");
        }

        if (options.ModelId is not null && !string.Equals(options.ModelId, ModelId, StringComparison.Ordinal))
        {
            throw new NotSupportedException($"ChatOptions.ModelId is '{options.ModelId}', but this client serves '{ModelId}'. Leave ModelId unset or use the client registered for that model.");
        }

        if (options.ResponseFormat is not (null or ChatResponseFormatText or ChatResponseFormatJson))
        {
            throw new NotSupportedException($"ChatOptions.ResponseFormat {options.ResponseFormat.GetType().Name} is not supported; use Text or Json.");
        }

        if (options.ToolMode is RequiredChatToolMode && (options.Tools is null || options.Tools.Count == 0))
        {
            throw new ArgumentException("ChatOptions.ToolMode requires a tool call, but ChatOptions.Tools is empty.", nameof(options));
        }

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
        };
    }

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

    private static void EnsureJson(string text)
    {
        try
        {
            using JsonDocument _ = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new AutoGlmException($"ChatOptions.ResponseFormat asked for JSON, but the model answered with text that is not valid JSON ({ex.Message}): {Truncate(text)}", ex);
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");
}
