using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Chat;

/// <summary>
/// Renders a conversation into GLM-4's chat prompt (DESIGN.md): <c>[gMASK]&lt;sop&gt;</c> (not for GLM-Edge), then
/// <c>&lt;|role|&gt;\n{content}</c> per message, then <c>&lt;|assistant|&gt;</c>. Tools are described in the system
/// message; tool results go back through the <c>&lt;|observation|&gt;</c> role, and earlier tool calls are
/// rendered the way GLM-4 emits them (<c>{name}\n{arguments json}</c>).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class GlmPromptFormatter
{
    public static string Render(IReadOnlyList<ChatMessage> messages, string? instructions, IList<AITool>? tools, string? responseFormatInstruction, bool withGMaskPrefix)
    {
        var prompt = new StringBuilder();
        if (withGMaskPrefix)
        {
            prompt.Append("[gMASK]<sop>");
        }

        string? system = BuildSystem(messages, instructions, tools, responseFormatInstruction);
        if (system is not null)
        {
            prompt.Append("<|system|>\n").Append(system);
        }

        foreach (ChatMessage message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                continue; // folded into the one system block above
            }

            if (message.Role == ChatRole.User)
            {
                prompt.Append("<|user|>\n").Append(message.Text);
            }
            else if (message.Role == ChatRole.Assistant)
            {
                prompt.Append("<|assistant|>");
                bool first = true;
                foreach (AIContent content in message.Contents)
                {
                    switch (content)
                    {
                        case FunctionCallContent call:
                            prompt.Append(call.Name).Append('\n').Append(ChatJson.Serialize(call.Arguments ?? new Dictionary<string, object?>()));
                            break;
                        case TextContent text when !string.IsNullOrEmpty(text.Text):
                            prompt.Append(first ? "\n" : string.Empty).Append(text.Text);
                            break;
                    }

                    first = false;
                }
            }
            else if (message.Role == ChatRole.Tool)
            {
                foreach (FunctionResultContent result in message.Contents.OfType<FunctionResultContent>())
                {
                    prompt.Append("<|observation|>\n").Append(result.Result switch
                    {
                        null => "null",
                        string s => s,
                        JsonElement e => e.GetRawText(),
                        object o => ChatJson.Serialize(o),
                    });
                }
            }
            else
            {
                throw new ArgumentException($"Chat role '{message.Role}' is not supported; use system, user, assistant or tool.", nameof(messages));
            }
        }

        prompt.Append("<|assistant|>");
        return prompt.ToString();
    }

    private static string? BuildSystem(IReadOnlyList<ChatMessage> messages, string? instructions, IList<AITool>? tools, string? responseFormatInstruction)
    {
        var parts = new List<string>();
        parts.AddRange(messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text).Where(t => !string.IsNullOrEmpty(t)));
        if (!string.IsNullOrEmpty(instructions))
        {
            parts.Add(instructions);
        }

        IEnumerable<AIFunctionDeclaration> functions = tools?.OfType<AIFunctionDeclaration>() ?? [];
        if (functions.Any())
        {
            var section = new StringBuilder("# Available tools");
            foreach (AIFunctionDeclaration function in functions)
            {
                section.Append("\n\n## ").Append(function.Name).Append("\n\n");
                section.Append(ChatJson.Serialize(new Dictionary<string, object?>
                {
                    ["name"] = function.Name,
                    ["description"] = function.Description,
                    ["parameters"] = function.JsonSchema,
                }));
            }

            section.Append("\n\nTo call a function, answer with its name on the first line and its arguments as JSON on the next.");
            parts.Add(section.ToString());
        }

        if (responseFormatInstruction is not null)
        {
            parts.Add(responseFormatInstruction);
        }

        return parts.Count == 0 ? null : string.Join("\n\n", parts);
    }
}
