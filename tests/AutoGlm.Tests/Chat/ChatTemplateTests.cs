using AutoGlm.Chat;

namespace AutoGlm.Tests.Chat;

public sealed class ChatTemplateTests : IDisposable
{
    private static readonly ChatTemplateMessage[] s_conversation =
    [
        new("system", "You are GLM."),
        new("user", "你好"),
        new("assistant", "Hello!"),
        new("user", "Bye"),
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-chat-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void Glm4_Conversation_RendersDesignPromptFormat()
    {
        string prompt = ChatTemplate.Glm4.Render(s_conversation);

        Assert.Equal("[gMASK]<sop><|system|>\nYou are GLM.<|user|>\n你好<|assistant|>\nHello!<|user|>\nBye<|assistant|>", prompt);
    }

    [Fact]
    public void GlmEdge_Conversation_HasNoPrefix()
    {
        string prompt = ChatTemplate.GlmEdge.Render(s_conversation, addGenerationPrompt: false);

        Assert.Equal("<|system|>\nYou are GLM.<|user|>\n你好<|assistant|>\nHello!<|user|>\nBye", prompt);
    }

    [Fact]
    public void Glm4_ToolsAndToolCall_RenderInGlmFormat()
    {
        ChatTemplateMessage[] messages =
        [
            new("user", "Time?"),
            new("assistant", null) { ToolCalls = [new ChatTemplateToolCall("get_time", new Dictionary<string, object?> { ["zone"] = "UTC" })] },
            new("tool", "12:00"),
        ];

        string prompt = ChatTemplate.Glm4.Render(messages, tools: [new ChatTemplateTool("get_time", "Time now.", null)]);

        Assert.Equal(
            "[gMASK]<sop><|system|>\n# 可用工具\n\n## get_time\n\n{\n    \"name\": \"get_time\",\n    \"description\": \"Time now.\"\n}\n在调用上述函数时，请使用 Json 格式表示调用的参数。" +
            "<|user|>\nTime?<|assistant|>get_time\n{\"zone\": \"UTC\"}<|observation|>\n12:00<|assistant|>",
            prompt);
    }

    [Fact]
    public void Parse_SyntaxError_NamesLineAndConstruct()
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("line one\n{% for m in messages %}\n{{ m.content }", "bad.jinja"));

        Assert.Equal("The chat template 'bad.jinja' has a syntax error at line 3, column 1 ('{{ m.content }'): the expression '{{' is never closed with '}}'.", e.Message);
    }

    [Fact]
    public void Parse_UnclosedBlock_NamesOpeningTag()
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("{% if x %}\nyes\n", "t"));

        Assert.Equal("The chat template 't' has a syntax error at line 1, column 1 ('{% if x %}'): '{% if %}' is never closed; expected '{% elif %}' or '{% else %}' or '{% endif %}'.", e.Message);
    }

    [Fact]
    public void Parse_UnsupportedTag_SaysSo()
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("a\n  {% include 'x' %}", "t"));

        Assert.Equal("The chat template 't' has a syntax error at line 2, column 6 ('{% include 'x' %}'): the tag '{% include %}' is not supported by AutoGlm's template engine (supported: if, for, set, macro, break, continue, generation).", e.Message);
    }

    [Fact]
    public void Render_UnknownFilter_NamesLineAndFilter()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for m in messages %}\n{{ m.content | shout }}{% endfor %}", "t");

        var e = Assert.Throws<TokenizerException>(() => template.Render(s_conversation));

        Assert.Equal("The chat template 't' failed at line 2, column 14 ('{{ m.content | shout }}{% endfor %}'): unknown filter 'shout'.", e.Message);
    }

    [Fact]
    public void Render_AttributeOfUndefined_NamesTheValue()
    {
        ChatTemplate template = ChatTemplate.Parse("{{ messages[0].missing.name }}", "t");

        var e = Assert.Throws<TokenizerException>(() => template.Render(s_conversation));

        Assert.Equal("The chat template 't' failed at line 1, column 23 ('{{ messages[0].missing.name }}'): cannot read 'name' of 'messages[0].missing', which is undefined ('missing').", e.Message);
    }

    [Fact]
    public void Render_RaiseException_ReportsTheTemplatesMessage()
    {
        ChatTemplate template = ChatTemplate.Parse("{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}", "t");

        var e = Assert.Throws<TokenizerException>(() => template.Render(s_conversation));

        Assert.Equal("The chat template 't' rejected the conversation: Conversation must start with a user message", e.Message);
    }

    [Fact]
    public void Render_ExtraVariablesAndClock_AreVisible()
    {
        ChatTemplate template = ChatTemplate.Parse("{{ greeting }} {{ strftime_now('%d %b %Y') }} {{ enable_thinking }}", "t");
        var clock = new FixedClock(new DateTimeOffset(2026, 3, 7, 10, 0, 0, TimeSpan.Zero));

        string text = template.Render([], extra: new Dictionary<string, object?> { ["greeting"] = "hi", ["enable_thinking"] = false }, timeProvider: clock);

        Assert.Equal("hi 07 Mar 2026 false", text);
    }

    [Fact]
    public void FromModelFolder_NamedTemplates_PicksDefaultOrNamedAndPassesSpecialTokens()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), """
            {"bos_token": {"content": "<s>"}, "eos_token": "</s>",
             "chat_template": [{"name": "default", "template": "{{ bos_token }}D{{ messages | length }}{{ eos_token }}"},
                               {"name": "tool_use", "template": "T{{ tools | length }}"}]}
            """);

        ChatTemplate byDefault = ChatTemplate.FromModelFolder(_folder)!;
        ChatTemplate toolUse = ChatTemplate.FromModelFolder(_folder, "tool_use")!;

        Assert.Equal("<s>D4</s>", byDefault.Render(s_conversation));
        Assert.Equal("T1", toolUse.Render(s_conversation, tools: [new ChatTemplateTool("f", null, null)]));
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.FromModelFolder(_folder, "rag"));
        Assert.Equal($"The file '{Path.Combine(_folder, "tokenizer_config.json")}' has no chat template named 'rag'; it has: default, tool_use.", e.Message);
    }

    [Fact]
    public void FromModelFolder_StringTemplateOrJinjaFileOrNone()
    {
        Directory.CreateDirectory(_folder);
        Assert.Null(ChatTemplate.FromModelFolder(_folder));

        File.WriteAllText(Path.Combine(_folder, "chat_template.jinja"), "J{{ messages[0].content }}\n");
        Assert.Equal("JYou are GLM.", ChatTemplate.FromModelFolder(_folder)!.Render(s_conversation));

        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), """{"chat_template": "S{{ messages[-1].content }}"}""");
        Assert.Equal("SBye", ChatTemplate.FromModelFolder(_folder)!.Render(s_conversation));
    }

    [Fact]
    public void Render_ConcurrentCallers_GetIdenticalResults()
    {
        string expected = ChatTemplate.Glm4.Render(s_conversation);
        string[] results = new string[200];

        Parallel.For(0, results.Length, i => results[i] = ChatTemplate.Glm4.Render(s_conversation));

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
