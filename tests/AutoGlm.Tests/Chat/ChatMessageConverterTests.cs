using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Tests.Chat;

public sealed class ChatMessageConverterTests
{
    [Fact]
    public void Render_Glm4BuiltIn_SystemInstructionsUserAssistant()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "Hi"),
            new(ChatRole.Assistant, "Hello!"),
            new(ChatRole.User, "2+2?"),
        ];

        string prompt = ChatTemplate.Glm4.Render(ChatMessageConverter.ToTemplateMessages(messages, "Answer in French.", null));

        Assert.Equal("[gMASK]<sop><|system|>\nBe brief.\n\nAnswer in French.<|user|>\nHi<|assistant|>\nHello!<|user|>\n2+2?<|assistant|>", prompt);
    }

    [Fact]
    public void Render_GlmEdgeBuiltIn_HasNoGMaskPrefix()
    {
        string prompt = ChatTemplate.GlmEdge.Render(ChatMessageConverter.ToTemplateMessages([new(ChatRole.User, "Hi")], null, null));

        Assert.Equal("<|user|>\nHi<|assistant|>", prompt);
    }

    [Fact]
    public void Render_ToolCallAndResult_UseAssistantAndObservationRoles()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather?"),
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", "sunny")]),
        ];
        AIFunction tool = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Gets the weather");

        string prompt = ChatTemplate.Glm4.Render(ChatMessageConverter.ToTemplateMessages(messages, null, null), tools: ChatMessageConverter.ToTemplateTools([tool]));

        Assert.StartsWith("[gMASK]<sop><|system|>\n# 可用工具\n\n## get_weather\n\n{\n    \"name\": \"get_weather\",\n    \"description\": \"Gets the weather\",", prompt, StringComparison.Ordinal);
        Assert.EndsWith("<|user|>\nWeather?<|assistant|>get_weather\n{\"city\": \"Paris\"}<|observation|>\nsunny<|assistant|>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void ToTemplateMessages_WithTools_PutsThemOnTheFirstMessageForGlm4Templates()
    {
        AIFunction tool = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Gets the weather");
        List<ChatTemplateTool> tools = ChatMessageConverter.ToTemplateTools([tool])!;

        List<ChatTemplateMessage> messages = ChatMessageConverter.ToTemplateMessages([new(ChatRole.User, "Weather?")], null, null, tools);

        var json = (System.Text.Json.JsonElement)messages[0].AdditionalProperties!["tools"]!;
        Assert.Equal("function", json[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", json[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Gets the weather", json[0].GetProperty("function").GetProperty("description").GetString());
        Assert.Equal("string", json[0].GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());

        // A template that reads message-level tools (as GLM-4-9B's does) sees them.
        ChatTemplate template = ChatTemplate.Parse("{% for m in messages %}{% if m.tools is defined %}{% for t in m.tools %}[{{ t.function.name }}]{% endfor %}{% endif %}{{ m.content }}{% endfor %}", "message-tools");
        Assert.Equal("[get_weather]Weather?", template.Render(messages, addGenerationPrompt: false));
    }

    [Fact]
    public void ToTemplateTools_NonFunctionTool_IsRejected()
    {
        var ex = Assert.Throws<NotSupportedException>(() => ChatMessageConverter.ToTemplateTools([new HostedWebSearchTool()]));

        Assert.Contains("supports function tools (AIFunctionDeclaration) only", ex.Message, StringComparison.Ordinal);
    }
}
