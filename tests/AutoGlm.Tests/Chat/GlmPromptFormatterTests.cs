using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Tests.Chat;

public sealed class GlmPromptFormatterTests
{
    [Fact]
    public void Render_SystemUserAssistant_UsesGlm4Format()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "Hi"),
            new(ChatRole.Assistant, "Hello!"),
            new(ChatRole.User, "2+2?"),
        ];

        string prompt = GlmPromptFormatter.Render(messages, instructions: null, tools: null, responseFormatInstruction: null, withGMaskPrefix: true);

        Assert.Equal("[gMASK]<sop><|system|>\nBe brief.<|user|>\nHi<|assistant|>\nHello!<|user|>\n2+2?<|assistant|>", prompt);
    }

    [Fact]
    public void Render_GlmEdge_HasNoGMaskPrefixAndInstructionsJoinSystem()
    {
        string prompt = GlmPromptFormatter.Render([new(ChatRole.User, "Hi")], "Answer in French.", null, null, withGMaskPrefix: false);

        Assert.Equal("<|system|>\nAnswer in French.<|user|>\nHi<|assistant|>", prompt);
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

        string prompt = GlmPromptFormatter.Render(messages, null, [tool], null, withGMaskPrefix: true);

        Assert.StartsWith("[gMASK]<sop><|system|>\n# Available tools\n\n## get_weather\n\n{\"name\":\"get_weather\",\"description\":\"Gets the weather\",\"parameters\":", prompt, StringComparison.Ordinal);
        Assert.EndsWith("<|user|>\nWeather?<|assistant|>get_weather\n{\"city\":\"Paris\"}<|observation|>\nsunny<|assistant|>", prompt, StringComparison.Ordinal);
    }
}
