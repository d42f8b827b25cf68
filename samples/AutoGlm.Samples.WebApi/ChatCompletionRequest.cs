using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// An OpenAI <c>POST /v1/chat/completions</c> body, validated and turned into <see cref="ChatMessage"/>s and
/// <see cref="ChatOptions"/>. Every problem becomes an <see cref="OpenAiRequestException"/> naming the field (<c>param</c>).
/// </summary>
/// <remarks>Immutable once parsed.</remarks>
public sealed class ChatCompletionRequest
{
    private static readonly HashSet<string> s_ignoredFields = new(StringComparer.Ordinal)
    {
        "user", "store", "metadata", "logit_bias", "parallel_tool_calls", "service_tier",
    };

    // Parameters GLM cannot honour are refused the way OpenAI refuses a parameter a model does not support.
    private static readonly HashSet<string> s_unsupportedFields = new(StringComparer.Ordinal)
    {
        "reasoning_effort", "audio", "modalities", "prediction", "web_search_options", "verbosity", "functions", "function_call",
    };

    /// <summary>The most choices one request may ask for (<c>n</c>).</summary>
    public const int MaxChoices = 8;

    private ChatCompletionRequest(string? model, List<ChatMessage> messages, ChatOptions options, bool stream, bool includeUsage)
    {
        Model = model;
        Messages = messages;
        Options = options;
        Stream = stream;
        IncludeUsage = includeUsage;
    }

    public string? Model { get; }

    public IReadOnlyList<ChatMessage> Messages { get; }

    public ChatOptions Options { get; }

    public bool Stream { get; }

    /// <summary><c>stream_options.include_usage</c>: a last chunk with empty <c>choices</c> and the usage.</summary>
    public bool IncludeUsage { get; }

    /// <summary><c>n</c>: how many independent choices to generate (generated together, in one batch).</summary>
    public int ChoiceCount { get; private init; } = 1;

    /// <summary><c>logprobs</c>: whether each choice reports its tokens' log probabilities.</summary>
    public bool LogProbabilities { get; private init; }

    /// <summary>Parses and validates <paramref name="body"/>.</summary>
    /// <exception cref="OpenAiRequestException">The body is not valid JSON or a field is missing, of the wrong type or out of bounds.</exception>
    public static ChatCompletionRequest Parse(ReadOnlyMemory<byte> body, OpenAiApiOptions limits)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw OpenAiRequestException.Invalid("The request body is not valid UTF-8; send JSON encoded as UTF-8.", null, "invalid_json");
        }

        try
        {
            return ParseDocument(body, limits);
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json decodes strings lazily; a lone surrogate escape such as \ud800 fails only when read.
            throw OpenAiRequestException.Invalid($"The request body holds a string that is not valid text: {ex.Message}", null, "invalid_json");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or JsonException)
        {
            throw OpenAiRequestException.Invalid($"The request body could not be read: {ex.Message}", null, "invalid_value");
        }
    }

    private static ChatCompletionRequest ParseDocument(ReadOnlyMemory<byte> body, OpenAiApiOptions limits)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw OpenAiRequestException.Invalid($"The request body is not valid JSON: {ex.Message}", null, "invalid_json");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            RequireText(root, "");
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiRequestException.Invalid($"The request body must be a JSON object, not {Kind(root)}.", null, "invalid_json");
            }

            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (s_unsupportedFields.Contains(property.Name) && property.Value.ValueKind != JsonValueKind.Null)
                {
                    throw OpenAiRequestException.Invalid($"Unsupported parameter: '{property.Name}' is not supported with this model.", property.Name, "unsupported_parameter");
                }

                if (!IsKnownField(property.Name) && !s_unsupportedFields.Contains(property.Name))
                {
                    throw OpenAiRequestException.Invalid($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
                }
            }

            string? model = OptionalString(root, "model");
            List<ChatMessage> messages = ParseMessages(root, limits.MaxMessages);
            var options = new ChatOptions
            {
                MaxOutputTokens = ParseMaxTokens(root, limits.MaxTokens),
                Temperature = OptionalFloat(root, "temperature", 0, 2),
                TopP = OptionalFloat(root, "top_p", 0, 1, minExclusive: true),
                FrequencyPenalty = OptionalFloat(root, "frequency_penalty", -2, 2),
                PresencePenalty = OptionalFloat(root, "presence_penalty", -2, 2),
                Seed = OptionalLong(root, "seed"),
                StopSequences = ParseStop(root),
                ResponseFormat = ParseResponseFormat(root),
            };
            if (OptionalFloat(root, "min_p", 0, 1) is float minP)
            {
                (options.AdditionalProperties ??= [])["min_p"] = minP;
            }

            int? n = OptionalLong(root, "n") is long count ? (int)Math.Clamp(count, int.MinValue, int.MaxValue) : null;
            if (n is < 1 or > MaxChoices)
            {
                throw OpenAiRequestException.Invalid($"n is {n}; it must be between 1 and {MaxChoices}.", "n", "invalid_value");
            }

            bool logProbabilities = OptionalBool(root, "logprobs") ?? false;
            long? topLogProbabilities = OptionalLong(root, "top_logprobs");
            if (topLogProbabilities is not null)
            {
                if (!logProbabilities)
                {
                    throw OpenAiRequestException.Invalid("top_logprobs requires logprobs to be true.", "top_logprobs", "invalid_value");
                }

                if (topLogProbabilities is < 0 or > 20)
                {
                    throw OpenAiRequestException.Invalid($"top_logprobs is {topLogProbabilities}; it must be between 0 and 20.", "top_logprobs", "invalid_value");
                }
            }

            if (logProbabilities)
            {
                (options.AdditionalProperties ??= [])["top_logprobs"] = (int)(topLogProbabilities ?? 0);
            }

            ParseTools(root, options);
            bool stream = OptionalBool(root, "stream") ?? false;
            bool includeUsage = false;
            if (root.TryGetProperty("stream_options", out JsonElement streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
            {
                if (!stream)
                {
                    throw OpenAiRequestException.Invalid("stream_options is only allowed when stream is true.", "stream_options");
                }

                RequireKind(streamOptions, JsonValueKind.Object, "stream_options");
                includeUsage = OptionalBool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
            }

            if (stream && n > 1)
            {
                throw OpenAiRequestException.Invalid($"n is {n} with stream true; this server streams one choice per request. Send n requests, or leave stream false to get {n} choices in one response.", "n", "unsupported_value");
            }

            return new ChatCompletionRequest(model, messages, options, stream, includeUsage) { ChoiceCount = n ?? 1, LogProbabilities = logProbabilities };
        }
    }

    private static bool IsKnownField(string name) => name switch
    {
        "model" or "messages" or "max_tokens" or "max_completion_tokens" or "temperature" or "top_p" or "frequency_penalty"
            or "presence_penalty" or "seed" or "stop" or "n" or "stream" or "stream_options" or "tools" or "tool_choice"
            or "response_format" or "logprobs" or "top_logprobs" or "min_p" => true,
        _ => s_ignoredFields.Contains(name),
    };

    private static List<ChatMessage> ParseMessages(JsonElement root, int maxMessages)
    {
        if (!root.TryGetProperty("messages", out JsonElement array) || array.ValueKind == JsonValueKind.Null)
        {
            throw OpenAiRequestException.Invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }

        RequireKind(array, JsonValueKind.Array, "messages");
        int count = array.GetArrayLength();
        if (count == 0)
        {
            throw OpenAiRequestException.Invalid("'messages' must contain at least one message.", "messages", "empty_array");
        }

        if (count > maxMessages)
        {
            throw OpenAiRequestException.Invalid($"'messages' has {count} messages; at most {maxMessages} are allowed.", "messages", "array_above_max_length");
        }

        var messages = new List<ChatMessage>(count);
        int index = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            messages.Add(ParseMessage(item, $"messages[{index}]"));
            index++;
        }

        return messages;
    }

    private static ChatMessage ParseMessage(JsonElement item, string path)
    {
        RequireKind(item, JsonValueKind.Object, path);
        string role = OptionalString(item, "role", $"{path}.role")
            ?? throw OpenAiRequestException.Invalid($"Missing required parameter: '{path}.role'.", $"{path}.role", "missing_required_parameter");
        string? content = ParseContent(item, $"{path}.content");
        switch (role)
        {
            case "system":
            case "developer":
                return new ChatMessage(ChatRole.System, content ?? string.Empty);
            case "user":
                return new ChatMessage(ChatRole.User, content ?? throw Missing($"{path}.content"));
            case "assistant":
                var contents = new List<AIContent>();
                if (!string.IsNullOrEmpty(content))
                {
                    contents.Add(new TextContent(content));
                }

                if (item.TryGetProperty("tool_calls", out JsonElement calls) && calls.ValueKind != JsonValueKind.Null)
                {
                    RequireKind(calls, JsonValueKind.Array, $"{path}.tool_calls");
                    int i = 0;
                    foreach (JsonElement call in calls.EnumerateArray())
                    {
                        contents.Add(ParseToolCall(call, $"{path}.tool_calls[{i}]"));
                        i++;
                    }
                }

                return new ChatMessage(ChatRole.Assistant, contents);
            case "tool":
                string callId = OptionalString(item, "tool_call_id", $"{path}.tool_call_id") ?? throw Missing($"{path}.tool_call_id");
                return new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, content ?? string.Empty)]);
            default:
                throw OpenAiRequestException.Invalid($"'{role}' is not one of 'system', 'developer', 'user', 'assistant', 'tool' - '{path}.role'.", $"{path}.role", "invalid_value");
        }
    }

    private static FunctionCallContent ParseToolCall(JsonElement call, string path)
    {
        RequireKind(call, JsonValueKind.Object, path);
        string id = OptionalString(call, "id", $"{path}.id") ?? throw Missing($"{path}.id");
        if (!call.TryGetProperty("function", out JsonElement function))
        {
            throw Missing($"{path}.function");
        }

        RequireKind(function, JsonValueKind.Object, $"{path}.function");
        string name = OptionalString(function, "name", $"{path}.function.name") ?? throw Missing($"{path}.function.name");
        string arguments = OptionalString(function, "arguments", $"{path}.function.arguments") ?? "{}";
        Dictionary<string, object?>? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments);
        }
        catch (JsonException ex)
        {
            throw OpenAiRequestException.Invalid($"'{path}.function.arguments' is not a JSON object: {ex.Message}", $"{path}.function.arguments", "invalid_value");
        }

        if (parsed is not null)
        {
            foreach ((string key, object? value) in parsed)
            {
                if (value is JsonElement element)
                {
                    RequireText(element, $"{path}.function.arguments.{key}");
                }
            }
        }

        return new FunctionCallContent(id, name, parsed);
    }

    /// <summary>Content as a string, or an array of <c>{"type":"text","text":...}</c> parts joined.</summary>
    private static string? ParseContent(JsonElement message, string path)
    {
        if (!message.TryGetProperty("content", out JsonElement content) || content.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }

        RequireKind(content, JsonValueKind.Array, path);
        var text = new System.Text.StringBuilder();
        int i = 0;
        foreach (JsonElement part in content.EnumerateArray())
        {
            RequireKind(part, JsonValueKind.Object, $"{path}[{i}]");
            string? type = OptionalString(part, "type", $"{path}[{i}].type");
            if (type != "text")
            {
                throw OpenAiRequestException.Invalid($"Content part type '{type}' is not supported at '{path}[{i}].type'; GLM text models accept 'text' parts only.", $"{path}[{i}].type", "invalid_value");
            }

            text.Append(OptionalString(part, "text", $"{path}[{i}].text"));
            i++;
        }

        return text.ToString();
    }

    private static int ParseMaxTokens(JsonElement root, int maxTokens)
    {
        string name = root.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens";
        long? value = OptionalLong(root, name);
        if (value is null)
        {
            return maxTokens;
        }

        if (value < 1 || value > maxTokens)
        {
            throw OpenAiRequestException.Invalid($"{name} is {value}; it must be between 1 and {maxTokens}.", name, "invalid_value");
        }

        return (int)value;
    }

    private static List<string>? ParseStop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out JsonElement stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return [stop.GetString()!];
        }

        RequireKind(stop, JsonValueKind.Array, "stop");
        if (stop.GetArrayLength() > 4)
        {
            throw OpenAiRequestException.Invalid($"'stop' has {stop.GetArrayLength()} sequences; at most 4 are allowed.", "stop", "array_above_max_length");
        }

        var list = new List<string>();
        foreach (JsonElement item in stop.EnumerateArray())
        {
            RequireKind(item, JsonValueKind.String, "stop");
            string value = item.GetString()!;
            if (value.Length == 0)
            {
                throw OpenAiRequestException.Invalid("'stop' sequences must not be empty.", "stop", "invalid_value");
            }

            list.Add(value);
        }

        return list;
    }

    private static ChatResponseFormat? ParseResponseFormat(JsonElement root)
    {
        if (!root.TryGetProperty("response_format", out JsonElement format) || format.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        RequireKind(format, JsonValueKind.Object, "response_format");
        string? type = OptionalString(format, "type", "response_format.type");
        switch (type)
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                if (!format.TryGetProperty("json_schema", out JsonElement jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object
                    || !jsonSchema.TryGetProperty("schema", out JsonElement schema))
                {
                    throw Missing("response_format.json_schema.schema");
                }

                return ChatResponseFormat.ForJsonSchema(schema.Clone(), OptionalString(jsonSchema, "name", "response_format.json_schema.name"), OptionalString(jsonSchema, "description", "response_format.json_schema.description"));
            default:
                throw OpenAiRequestException.Invalid($"response_format.type '{type}' is not one of 'text', 'json_object', 'json_schema'.", "response_format.type", "invalid_value");
        }
    }

    private static void ParseTools(JsonElement root, ChatOptions options)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty("tools", out JsonElement tools) && tools.ValueKind != JsonValueKind.Null)
        {
            RequireKind(tools, JsonValueKind.Array, "tools");
            options.Tools = [];
            int i = 0;
            foreach (JsonElement tool in tools.EnumerateArray())
            {
                string path = $"tools[{i}]";
                RequireKind(tool, JsonValueKind.Object, path);
                string? type = OptionalString(tool, "type", $"{path}.type");
                if (type != "function")
                {
                    throw OpenAiRequestException.Invalid($"'{path}.type' is '{type}'; only 'function' tools are supported.", $"{path}.type", "invalid_value");
                }

                if (!tool.TryGetProperty("function", out JsonElement function))
                {
                    throw Missing($"{path}.function");
                }

                RequireKind(function, JsonValueKind.Object, $"{path}.function");
                string name = OptionalString(function, "name", $"{path}.function.name") ?? throw Missing($"{path}.function.name");
                if (!names.Add(name))
                {
                    throw OpenAiRequestException.Invalid($"Tool name '{name}' appears twice in 'tools'.", $"{path}.function.name", "invalid_value");
                }

                JsonElement parameters = function.TryGetProperty("parameters", out JsonElement p) && p.ValueKind == JsonValueKind.Object
                    ? p.Clone()
                    : JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(name, OptionalString(function, "description", $"{path}.function.description"), parameters));
                i++;
            }
        }

        if (!root.TryGetProperty("tool_choice", out JsonElement choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            options.ToolMode = choice.GetString() switch
            {
                "none" => ChatToolMode.None,
                "auto" => ChatToolMode.Auto,
                "required" when names.Count > 0 => ChatToolMode.RequireAny,
                "required" => throw OpenAiRequestException.Invalid("tool_choice is 'required' but no tools were given.", "tool_choice", "invalid_value"),
                var other => throw OpenAiRequestException.Invalid($"tool_choice '{other}' is not one of 'none', 'auto', 'required'.", "tool_choice", "invalid_value"),
            };
            return;
        }

        RequireKind(choice, JsonValueKind.Object, "tool_choice");
        string? chosen = choice.TryGetProperty("function", out JsonElement chosenFunction) && chosenFunction.ValueKind == JsonValueKind.Object
            ? OptionalString(chosenFunction, "name", "tool_choice.function.name")
            : null;
        if (chosen is null || !names.Contains(chosen))
        {
            throw OpenAiRequestException.Invalid($"tool_choice names function '{chosen}', which is not in 'tools'.", "tool_choice.function.name", "invalid_value");
        }

        options.ToolMode = ChatToolMode.RequireSpecific(chosen);
    }

    /// <summary>
    /// Decodes every string and property name under <paramref name="element"/> once, without recursion: System.Text.Json
    /// decodes lazily, so a lone surrogate escape such as <c>\ud800</c> would otherwise fail deep inside the model call.
    /// </summary>
    private static void RequireText(JsonElement element, string path)
    {
        var pending = new Stack<(JsonElement Element, string Path)>();
        pending.Push((element, path));
        while (pending.TryPop(out (JsonElement Element, string Path) item))
        {
            try
            {
                switch (item.Element.ValueKind)
                {
                    case JsonValueKind.Object:
                        foreach (JsonProperty property in item.Element.EnumerateObject())
                        {
                            pending.Push((property.Value, item.Path.Length == 0 ? property.Name : $"{item.Path}.{property.Name}"));
                        }

                        break;
                    case JsonValueKind.Array:
                        int index = 0;
                        foreach (JsonElement child in item.Element.EnumerateArray())
                        {
                            pending.Push((child, $"{item.Path}[{index++}]"));
                        }

                        break;
                    case JsonValueKind.String:
                        _ = item.Element.GetString();
                        break;
                }
            }
            catch (InvalidOperationException ex)
            {
                string where = item.Path.Length == 0 ? "a property name" : $"'{item.Path}'";
                throw OpenAiRequestException.Invalid($"The request body holds a string that is not valid text at {where}: {ex.Message}", item.Path.Length == 0 ? null : item.Path, "invalid_json");
            }
        }
    }

    private static OpenAiRequestException Missing(string path) => OpenAiRequestException.Invalid($"Missing required parameter: '{path}'.", path, "missing_required_parameter");

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static void RequireKind(JsonElement element, JsonValueKind kind, string path)
    {
        if (element.ValueKind != kind)
        {
            string expected = kind switch
            {
                JsonValueKind.Object => "an object",
                JsonValueKind.Array => "an array",
                JsonValueKind.String => "a string",
                _ => kind.ToString().ToLowerInvariant(),
            };
            throw OpenAiRequestException.Invalid($"'{path}' must be {expected}, not {Kind(element)}.", path, "invalid_type");
        }
    }

    private static string? OptionalString(JsonElement parent, string name, string? path = null)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        RequireKind(value, JsonValueKind.String, path ?? name);
        return value.GetString();
    }

    private static bool? OptionalBool(JsonElement parent, string name, string? path = null)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiRequestException.Invalid($"'{path ?? name}' must be a boolean, not {Kind(value)}.", path ?? name, "invalid_type"),
        };
    }

    private static long? OptionalLong(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
        {
            throw OpenAiRequestException.Invalid($"'{name}' must be an integer, not {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : Kind(value))}.", name, "invalid_type");
        }

        return number;
    }

    private static float? OptionalFloat(JsonElement parent, string name, float min, float max, bool minExclusive = false)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw OpenAiRequestException.Invalid($"'{name}' must be a number, not {Kind(value)}.", name, "invalid_type");
        }

        if (!value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            throw OpenAiRequestException.Invalid($"{name} is {value.GetRawText()}, which is not a finite number.", name, "invalid_value");
        }

        if (number < min || number > max || (minExclusive && number <= min))
        {
            string range = minExclusive ? $"greater than {min} and at most {max}" : $"between {min} and {max}";
            throw OpenAiRequestException.Invalid($"{name} is {value.GetRawText()}; it must be {range}.", name, "invalid_value");
        }

        return (float)number;
    }
}
