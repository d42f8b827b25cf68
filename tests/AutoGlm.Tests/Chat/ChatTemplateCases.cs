using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGlm.Chat;

namespace AutoGlm.Tests.Chat;

/// <summary>Conversations rendered by every template, in AutoGlm's types and in the JSON shape transformers passes to templates.</summary>
internal static class ChatTemplateCases
{
    public static JsonElement WeatherParameters { get; } = JsonDocument.Parse("""
        {"type": "object", "properties": {"city": {"type": "string", "description": "城市名, e.g. \"北京\""}, "days": {"type": "integer", "minimum": 1}}, "required": ["city"]}
        """).RootElement;

    public static IReadOnlyList<ChatTemplateTool> Tools { get; } =
    [
        new ChatTemplateTool("get_weather", "Get the weather forecast for a city.", WeatherParameters),
        new ChatTemplateTool("get_time", "Current time (UTC).", null),
    ];

    public static IReadOnlyList<(string Name, IReadOnlyList<ChatTemplateMessage> Messages, bool AddGenerationPrompt, bool WithTools)> Conversations { get; } =
    [
        ("plain", [
            new ChatTemplateMessage("system", "You are a helpful assistant."),
            new ChatTemplateMessage("user", "你好！What's 2+2?"),
            new ChatTemplateMessage("assistant", "4"),
            new ChatTemplateMessage("user", "  And 3+3?\nThanks 😀  "),
        ], true, false),
        ("single-no-prompt", [new ChatTemplateMessage("user", "Hi")], false, false),
        ("tools", [
            new ChatTemplateMessage("system", "Use tools when useful.") { AdditionalProperties = new Dictionary<string, object?> { ["tools"] = ToolsJson() } },
            new ChatTemplateMessage("user", "What's the weather in 北京 for 3 days?"),
            new ChatTemplateMessage("assistant", "")
            {
                ToolCalls = [new ChatTemplateToolCall("get_weather", new Dictionary<string, object?> { ["city"] = "北京", ["days"] = 3 }, "call_1")],
                Metadata = "get_weather",
            },
            new ChatTemplateMessage("tool", "{\"temp\": 21, \"sky\": \"晴\"}") { Name = "get_weather", ToolCallId = "call_1" },
        ], true, true),
    ];

    /// <summary>The tools in the JSON shape templates receive.</summary>
    public static JsonArray ToolsJson() => new(
        new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = "get_weather",
                ["description"] = "Get the weather forecast for a city.",
                ["parameters"] = JsonNode.Parse(WeatherParameters.GetRawText()),
            },
        },
        new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "get_time", ["description"] = "Current time (UTC)." },
        });

    /// <summary>A conversation in the JSON shape transformers passes (written independently of AutoGlm's conversion).</summary>
    public static JsonObject Context(IReadOnlyList<ChatTemplateMessage> messages, bool addGenerationPrompt, bool withTools, IReadOnlyDictionary<string, string>? extra = null)
    {
        var list = new JsonArray();
        foreach (ChatTemplateMessage message in messages)
        {
            var item = new JsonObject { ["role"] = message.Role, ["content"] = message.Content };
            if (message.ToolCalls is { } calls)
            {
                item["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject
                    {
                        ["name"] = c.Name,
                        ["arguments"] = JsonSerializer.SerializeToNode(c.Arguments),
                    },
                })]);
            }

            if (message.Name is not null)
            {
                item["name"] = message.Name;
            }

            if (message.ToolCallId is not null)
            {
                item["tool_call_id"] = message.ToolCallId;
            }

            if (message.Metadata is not null)
            {
                item["metadata"] = message.Metadata;
            }

            foreach ((string key, object? value) in message.AdditionalProperties ?? new Dictionary<string, object?>())
            {
                item[key] = ((JsonNode)value!).DeepClone();
            }

            list.Add(item);
        }

        var context = new JsonObject
        {
            ["messages"] = list,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = withTools ? ToolsJson() : null,
        };
        foreach ((string key, string value) in extra ?? new Dictionary<string, string>())
        {
            context[key] = value;
        }

        return context;
    }
}
