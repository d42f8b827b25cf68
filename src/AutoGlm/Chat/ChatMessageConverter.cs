using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Chat;

/// <summary>
/// Turns <c>Microsoft.Extensions.AI</c> messages and tools into what a chat template renders: one system message
/// first (the conversation's system messages, the request's instructions and any response-format instruction,
/// joined), assistant tool calls as <c>tool_calls</c>, and tool results as <c>tool</c> messages (which GLM
/// templates render through the observation role). The tools also travel on the first message as its
/// <c>tools</c> field, where GLM-4-9B's own template looks for them (templates that read the top-level
/// <c>tools</c> variable ignore the field).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class ChatMessageConverter
{
    public static List<ChatTemplateMessage> ToTemplateMessages(IReadOnlyList<ChatMessage> history, string? instructions, string? extraSystemText, IReadOnlyList<ChatTemplateTool>? tools = null)
    {
        var result = new List<ChatTemplateMessage>(history.Count + 1);
        var systemParts = history.Where(m => m.Role == ChatRole.System).Select(m => m.Text).Where(t => !string.IsNullOrEmpty(t)).ToList();
        if (!string.IsNullOrEmpty(instructions))
        {
            systemParts.Add(instructions);
        }

        if (!string.IsNullOrEmpty(extraSystemText))
        {
            systemParts.Add(extraSystemText);
        }

        if (systemParts.Count > 0)
        {
            result.Add(new ChatTemplateMessage("system", string.Join("\n\n", systemParts)));
        }

        foreach (ChatMessage message in history)
        {
            if (message.Role == ChatRole.System)
            {
                continue;
            }

            if (message.Role == ChatRole.User)
            {
                result.Add(new ChatTemplateMessage("user", message.Text));
            }
            else if (message.Role == ChatRole.Assistant)
            {
                ChatTemplateToolCall[] calls = message.Contents.OfType<FunctionCallContent>()
                    .Select(c => new ChatTemplateToolCall(c.Name, c.Arguments is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(c.Arguments), c.CallId))
                    .ToArray();
                result.Add(new ChatTemplateMessage("assistant", message.Text) { ToolCalls = calls.Length > 0 ? calls : null });
            }
            else if (message.Role == ChatRole.Tool)
            {
                foreach (FunctionResultContent tool in message.Contents.OfType<FunctionResultContent>())
                {
                    result.Add(new ChatTemplateMessage("tool", ResultText(tool.Result)) { ToolCallId = tool.CallId });
                }
            }
            else
            {
                throw new ArgumentException($"Chat role '{message.Role}' is not supported; use system, user, assistant or tool.", nameof(history));
            }
        }

        if (tools is { Count: > 0 } && result.Count > 0)
        {
            ChatTemplateMessage first = result[0];
            result[0] = new ChatTemplateMessage(first.Role, first.Content)
            {
                ToolCalls = first.ToolCalls,
                Name = first.Name,
                ToolCallId = first.ToolCallId,
                Metadata = first.Metadata,
                AdditionalProperties = new Dictionary<string, object?>(first.AdditionalProperties ?? new Dictionary<string, object?>()) { ["tools"] = ToolsJson(tools) },
            };
        }

        return result;
    }

    private static JsonElement ToolsJson(IReadOnlyList<ChatTemplateTool> tools)
    {
        var array = new System.Text.Json.Nodes.JsonArray();
        foreach (ChatTemplateTool tool in tools)
        {
            var function = new System.Text.Json.Nodes.JsonObject { ["name"] = tool.Name };
            if (tool.Description is not null)
            {
                function["description"] = tool.Description;
            }

            if (tool.Parameters is { } parameters)
            {
                function["parameters"] = System.Text.Json.Nodes.JsonNode.Parse(parameters.GetRawText());
            }

            array.Add((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["type"] = "function", ["function"] = function });
        }

        using JsonDocument document = JsonDocument.Parse(array.ToJsonString());
        return document.RootElement.Clone();
    }

    public static List<ChatTemplateTool>? ToTemplateTools(IList<AITool>? tools)
    {
        if (tools is null || tools.Count == 0)
        {
            return null;
        }

        var result = new List<ChatTemplateTool>();
        foreach (AITool tool in tools)
        {
            if (tool is not AIFunctionDeclaration function)
            {
                throw new NotSupportedException($"Tool '{tool.Name}' is a {tool.GetType().Name}; AutoGlm runs local models and supports function tools (AIFunctionDeclaration) only.");
            }

            result.Add(new ChatTemplateTool(function.Name, function.Description, function.JsonSchema));
        }

        return result;
    }

    private static string ResultText(object? result) => result switch
    {
        null => "null",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? string.Empty,
        JsonElement e => e.GetRawText(),
        object o => ChatJson.Serialize(o),
    };
}
