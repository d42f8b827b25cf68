using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AutoGlm.Tokenization;

namespace AutoGlm.Chat;

/// <summary>
/// ChatGLM3's chat prompt, built from ids as its tokenizer's <c>build_chat_input</c> does: <c>[gMASK]</c> <c>sop</c>,
/// then for each message <c>&lt;|role|&gt;</c> + encode(metadata + "\n") + encode(content), then <c>&lt;|assistant|&gt;</c>.
/// Each piece is encoded on its own (so each gets SentencePiece's dummy-prefix space), which no text template
/// reproduces; special tokens written in message text stay text.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class ChatGlm3Prompt
{
    /// <summary>The system text ChatGLM3's tool demo puts before the tool list when the conversation has no system message.</summary>
    public const string DefaultToolSystemText = "Answer the following questions as best as you can. You have access to the following tools:";

    // Python's json.dumps(..., indent=4, ensure_ascii=False), as ChatGLM3 writes tools.
    private static readonly JsonWriterOptions s_toolJson = new()
    {
        Indented = true,
        IndentSize = 4,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Builds the prompt ids, and the text they stand for (for logs and tool checks).</summary>
    /// <param name="tokenizer">A ChatGLM3 tokenizer (<see cref="Tokenizer.IsChatGlm3"/>).</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="tools">Tools offered to the model, listed in the system message as ChatGLM3 expects.</param>
    /// <exception cref="TokenizerException">A message has a role ChatGLM3 does not know.</exception>
    public static (int[] Ids, string Text) Build(Tokenizer tokenizer, IReadOnlyList<ChatTemplateMessage> messages, IReadOnlyList<ChatTemplateTool>? tools)
    {
        var ids = new List<int>(64);
        var text = new StringBuilder();
        AddSpecial(tokenizer, "[gMASK]", ids, text);
        AddSpecial(tokenizer, "sop", ids, text);
        bool toolsWritten = tools is not { Count: > 0 };
        foreach (ChatTemplateMessage message in messages)
        {
            string role = message.Role switch
            {
                "system" or "user" or "assistant" or "observation" => message.Role,
                "tool" => "observation",
                var other => throw new TokenizerException($"ChatGLM3's prompt has no role '{other}'; use system, user, assistant, observation or tool."),
            };

            if (!toolsWritten && role != "system")
            {
                AddMessage(tokenizer, "system", string.Empty, WithTools(DefaultToolSystemText, tools!), ids, text);
                toolsWritten = true;
            }

            string content = message.Content ?? string.Empty;
            if (role == "system" && !toolsWritten)
            {
                content = WithTools(content, tools!);
                toolsWritten = true;
            }

            if (message.ToolCalls is { Count: > 0 } calls)
            {
                // ChatGLM3 writes a call as the assistant turn with the tool name as metadata.
                foreach (ChatTemplateToolCall call in calls)
                {
                    AddMessage(tokenizer, role, call.Name, Json(w =>
                    {
                        w.WriteStartObject();
                        foreach ((string name, object? value) in call.Arguments)
                        {
                            w.WritePropertyName(name);
                            WriteValue(w, value);
                        }

                        w.WriteEndObject();
                    }), ids, text);
                }

                if (content.Length == 0)
                {
                    continue;
                }
            }

            AddMessage(tokenizer, role, message.Metadata ?? string.Empty, content, ids, text);
        }

        AddSpecial(tokenizer, "<|assistant|>", ids, text);
        return ([.. ids], text.ToString());
    }

    private static string WithTools(string content, IReadOnlyList<ChatTemplateTool> tools)
    {
        return content + "\n" + Json(w =>
        {
            w.WriteStartArray();
            foreach (ChatTemplateTool tool in tools)
            {
                w.WriteStartObject();
                w.WriteString("name", tool.Name);
                w.WriteString("description", tool.Description ?? string.Empty);
                w.WritePropertyName("parameters");
                if (tool.Parameters is { } parameters)
                {
                    parameters.WriteTo(w);
                }
                else
                {
                    w.WriteNullValue();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, s_toolJson))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            JsonSerializer.Serialize(writer, value, ChatJson.Options.GetTypeInfo(value.GetType()));
        }
    }

    private static void AddMessage(Tokenizer tokenizer, string role, string metadata, string content, List<int> ids, StringBuilder text)
    {
        AddSpecial(tokenizer, $"<|{role}|>", ids, text);
        string header = metadata + "\n";
        tokenizer.Encode(header, ids, parseSpecialTokens: false);
        tokenizer.Encode(content, ids, parseSpecialTokens: false);
        text.Append(header).Append(content);
    }

    private static void AddSpecial(Tokenizer tokenizer, string token, List<int> ids, StringBuilder text)
    {
        ids.Add(tokenizer.TokenToId(token) ?? throw new TokenizerException($"The tokenizer '{tokenizer.Source}' has no '{token}' token, so ChatGLM3's prompt cannot be built; use ChatGLM3's tokenizer.model."));
        text.Append(token);
    }
}
