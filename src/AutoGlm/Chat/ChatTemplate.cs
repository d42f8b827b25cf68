using AutoGlm.Chat.Jinja;
using AutoGlm.Tokenization;

namespace AutoGlm.Chat;

/// <summary>
/// A model's chat template: Jinja source that turns a conversation into the prompt text the model was trained
/// on. AutoGlm renders the subset of Jinja that the templates of GLM-4, GLM-Edge, GLM-4-0414, ChatGLM3,
/// Llama-3 and Qwen use, with Hugging Face's settings (<c>trim_blocks</c>, <c>lstrip_blocks</c>), and offers
/// built-in GLM templates for folders that have none.
/// </summary>
/// <remarks>Immutable and thread-safe: one parsed template may be rendered by many threads at once.</remarks>
public sealed class ChatTemplate
{
    private static readonly Lazy<ChatTemplate> s_glm4 = new(() => Parse(CreateGlmSource("[gMASK]<sop>"), "GLM-4 built-in", new Dictionary<string, object?>(), TemplateLimits.Default));
    private static readonly Lazy<ChatTemplate> s_glmEdge = new(() => Parse(CreateGlmSource(""), "GLM-Edge built-in", new Dictionary<string, object?>(), TemplateLimits.Default));

    private readonly TemplateSource _source;
    private readonly IReadOnlyList<TemplateStatement> _body;
    private readonly IReadOnlyDictionary<string, object?> _defaults;

    private ChatTemplate(string text, TemplateSource source, IReadOnlyList<TemplateStatement> body, IReadOnlyDictionary<string, object?> defaults, TemplateLimits limits)
    {
        Text = text;
        _source = source;
        _body = body;
        _defaults = defaults;
        Limits = limits;
    }

    /// <summary>The built-in GLM-4 template: <c>[gMASK]&lt;sop&gt;</c>, then <c>&lt;|role|&gt;\ncontent</c> per message, then <c>&lt;|assistant|&gt;</c>; tools in GLM-4's system format.</summary>
    public static ChatTemplate Glm4 => s_glm4.Value;

    /// <summary>The built-in GLM-Edge template: as <see cref="Glm4"/> without the <c>[gMASK]&lt;sop&gt;</c> prefix.</summary>
    public static ChatTemplate GlmEdge => s_glmEdge.Value;

    /// <summary>The template's name, for messages (file and template name, or which built-in).</summary>
    public string Name => _source.Name;

    /// <summary>The Jinja source.</summary>
    public string Text { get; }

    /// <summary>The sandbox limits the template was parsed with and renders under.</summary>
    public TemplateLimits Limits { get; }

    /// <summary>Parses a Jinja chat template.</summary>
    /// <param name="source">The template source.</param>
    /// <param name="name">A name for messages, such as the file it came from; null for "chat template".</param>
    /// <returns>The parsed template.</returns>
    /// <exception cref="TokenizerException">The source has a syntax error, uses a construct the engine does not support, or nests deeper than <see cref="TemplateLimits.MaxNestingDepth"/>; the message gives the line and the construct or limit.</exception>
    public static ChatTemplate Parse(string source, string? name = null) => Parse(source, name, new Dictionary<string, object?>(), TemplateLimits.Default);

    /// <summary>Parses a Jinja chat template that will run under <paramref name="limits"/>.</summary>
    /// <param name="source">The template source.</param>
    /// <param name="name">A name for messages, such as the file it came from; null for "chat template".</param>
    /// <param name="limits">The sandbox limits; null for <see cref="TemplateLimits.Default"/>.</param>
    /// <returns>The parsed template.</returns>
    /// <exception cref="TokenizerException">The source has a syntax error, uses a construct the engine does not support, or nests deeper than <see cref="TemplateLimits.MaxNestingDepth"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public static ChatTemplate Parse(string source, string? name, TemplateLimits? limits) => Parse(source, name, new Dictionary<string, object?>(), limits ?? TemplateLimits.Default);

    /// <summary>This template (same source, name and variables) under other limits.</summary>
    /// <param name="limits">The sandbox limits.</param>
    /// <returns>The template parsed again under <paramref name="limits"/>, or this one when they are equal.</returns>
    /// <exception cref="TokenizerException">The template nests deeper than the new <see cref="TemplateLimits.MaxNestingDepth"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public ChatTemplate WithLimits(TemplateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return limits == Limits ? this : Parse(Text, _source.Name, _defaults, limits);
    }

    /// <summary>
    /// Reads the chat template of a model folder: <c>chat_template</c> from <c>tokenizer_config.json</c> (a
    /// string, or the list of named templates, of which <paramref name="templateName"/> or "default" is taken),
    /// else a <c>chat_template.jinja</c> file. The special tokens named in <c>tokenizer_config.json</c>
    /// (<c>bos_token</c>, <c>eos_token</c>, ...) become template variables, as in transformers.
    /// </summary>
    /// <param name="modelFolder">The model folder.</param>
    /// <param name="templateName">Which named template to take (for example "tool_use"); null for the default.</param>
    /// <returns>The template, or null when the folder has none.</returns>
    /// <exception cref="TokenizerException">A file is malformed, the named template does not exist, or the template does not parse.</exception>
    public static ChatTemplate? FromModelFolder(string modelFolder, string? templateName = null) => FromModelFolder(modelFolder, templateName, null);

    /// <summary>Reads the chat template of a model folder, as <see cref="FromModelFolder(string, string?)"/>, to run under <paramref name="limits"/>.</summary>
    /// <param name="modelFolder">The model folder.</param>
    /// <param name="templateName">Which named template to take (for example "tool_use"); null for the default.</param>
    /// <param name="limits">The sandbox limits; null for <see cref="TemplateLimits.Default"/>.</param>
    /// <returns>The template, or null when the folder has none.</returns>
    /// <exception cref="TokenizerException">A file is malformed, the named template does not exist, or the template does not parse.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public static ChatTemplate? FromModelFolder(string modelFolder, string? templateName, TemplateLimits? limits)
    {
        limits ??= TemplateLimits.Default;
        ArgumentException.ThrowIfNullOrEmpty(modelFolder);
        string configPath = Path.Combine(modelFolder, Tokenizer.ConfigFileName);
        var defaults = new Dictionary<string, object?>(StringComparer.Ordinal);
        TokenizerConfigFile? config = File.Exists(configPath) ? TokenizerConfigFile.Load(configPath) : null;
        if (config is not null)
        {
            foreach ((string key, string value) in config.NamedTokens)
            {
                defaults[key] = value;
            }

            if (config.ChatTemplates.Count > 0)
            {
                string wanted = templateName ?? TokenizerConfigFile.DefaultTemplateName;
                if (!config.ChatTemplates.TryGetValue(wanted, out string? text))
                {
                    throw new TokenizerException($"The file '{configPath}' has no chat template named '{wanted}'; it has: {string.Join(", ", config.ChatTemplates.Keys)}.");
                }

                return Parse(text, config.ChatTemplates.Count == 1 && templateName is null ? configPath : $"{configPath} ({wanted})", defaults, limits);
            }
        }

        string jinjaPath = Path.Combine(modelFolder, "chat_template.jinja");
        if (File.Exists(jinjaPath))
        {
            return Parse(ReadTemplateFile(jinjaPath), jinjaPath, defaults, limits);
        }

        return null;
    }

    /// <summary>Renders the prompt for a conversation.</summary>
    /// <param name="messages">The conversation so far.</param>
    /// <param name="addGenerationPrompt">Whether to end with the tokens that start the assistant's reply (<c>add_generation_prompt</c>).</param>
    /// <param name="tools">Functions the model may call (<c>tools</c>), or null.</param>
    /// <param name="extra">Further template variables (for example <c>enable_thinking</c>); they override the defaults.</param>
    /// <param name="timeProvider">The clock for <c>strftime_now</c>; null for the system clock.</param>
    /// <returns>The prompt text; special tokens in it are meant to be parsed by the tokenizer.</returns>
    /// <exception cref="TokenizerException">Rendering failed (the template called <c>raise_exception</c>, used a value in a way it does not support, or crossed one of its <see cref="Limits"/>); the message gives the line and the construct or limit.</exception>
    public string Render(
        IReadOnlyList<ChatTemplateMessage> messages,
        bool addGenerationPrompt = true,
        IReadOnlyList<ChatTemplateTool>? tools = null,
        IReadOnlyDictionary<string, object?>? extra = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(_defaults, StringComparer.Ordinal)
        {
            ["messages"] = messages.Select(ToTemplateValue).ToList(),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = tools?.Select(ToTemplateValue).ToList(),
        };
        if (extra is not null)
        {
            foreach ((string key, object? value) in extra)
            {
                variables[key] = value;
            }
        }

        try
        {
            return new TemplateInterpreter(timeProvider ?? TimeProvider.System, Limits).Render(_body, variables);
        }
        catch (TemplateException e) when (e.RaisedByTemplate)
        {
            throw new TokenizerException($"The chat template '{Name}' rejected the conversation: {e.Message}", e);
        }
        catch (TemplateException e)
        {
            throw new TokenizerException($"The chat template '{Name}' failed at {_source.Describe(e.Offset)}: {e.Message}.", e);
        }
    }

    private static ChatTemplate Parse(string source, string? name, IReadOnlyDictionary<string, object?> defaults, TemplateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(source);
        limits.Validate();
        var text = new TemplateSource(source, name ?? "chat template");
        try
        {
            return new ChatTemplate(source, text, TemplateParser.Parse(text, limits), defaults, limits);
        }
        catch (TemplateException e)
        {
            throw new TokenizerException($"The chat template '{text.Name}' has a syntax error at {text.Describe(e.Offset)}: {e.Message}.", e);
        }
    }

    private static string ReadTemplateFile(string path)
    {
        try
        {
            return File.ReadAllText(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new TokenizerException($"The chat template file '{path}' is not valid UTF-8 ({e.Message}); save it as UTF-8.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"Cannot read the chat template file '{path}': {e.Message}", e);
        }
    }

    private static OrderedDictionary<string, object?> ToTemplateValue(ChatTemplateMessage message)
    {
        var value = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = message.Role,
            ["content"] = message.Content,
        };
        if (message.ToolCalls is { } calls)
        {
            value["tool_calls"] = calls.Select(call =>
            {
                var function = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["name"] = call.Name,
                    ["arguments"] = TemplateValue.From(call.Arguments),
                };
                var entry = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                if (call.Id is not null)
                {
                    entry["id"] = call.Id;
                }

                entry["type"] = "function";
                entry["function"] = function;
                return (object?)entry;
            }).ToList();
        }

        if (message.Name is not null)
        {
            value["name"] = message.Name;
        }

        if (message.ToolCallId is not null)
        {
            value["tool_call_id"] = message.ToolCallId;
        }

        if (message.Metadata is not null)
        {
            value["metadata"] = message.Metadata;
        }

        foreach ((string key, object? extra) in message.AdditionalProperties ?? new Dictionary<string, object?>())
        {
            value[key] = TemplateValue.From(extra);
        }

        return value;
    }

    private static object? ToTemplateValue(ChatTemplateTool tool)
    {
        var function = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["name"] = tool.Name };
        if (tool.Description is not null)
        {
            function["description"] = tool.Description;
        }

        if (tool.Parameters is { } parameters)
        {
            function["parameters"] = TemplateValue.FromJson(parameters);
        }

        return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["type"] = "function", ["function"] = function };
    }

    private static string CreateGlmSource(string prefix) =>
        (prefix.Length > 0 ? $"{{{{- '{prefix}' -}}}}\n" : "") +
        """
        {%- if tools -%}
        {{- '<|system|>\n# 可用工具' -}}
        {%- for tool in tools -%}
        {%- set function = tool.function if tool.function is defined else tool -%}
        {{- '\n\n## ' ~ function.name ~ '\n\n' ~ (function | tojson(indent=4)) ~ '\n在调用上述函数时，请使用 Json 格式表示调用的参数。' -}}
        {%- endfor -%}
        {%- endif -%}
        {%- for message in messages -%}
        {%- if message.role == 'tool' -%}
        {{- '<|observation|>\n' ~ (message.content or '') -}}
        {%- elif message.role == 'assistant' and message.tool_calls -%}
        {%- for call in message.tool_calls -%}
        {{- '<|assistant|>' ~ call.function.name ~ '\n' ~ (call.function.arguments | tojson) -}}
        {%- endfor -%}
        {%- else -%}
        {{- '<|' ~ message.role ~ '|>' ~ (message.metadata or '') ~ '\n' ~ (message.content or '') -}}
        {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
        {{- '<|assistant|>' -}}
        {%- endif -%}
        """;
}
