using Microsoft.Extensions.Logging;

namespace AutoGlm.Chat;

/// <summary>The <see cref="AutoGlmChatClient"/>'s log messages.</summary>
internal static partial class AutoGlmChatClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "The chat template of model '{ModelId}' left {Count} tool(s) out of the prompt ({Tools}): the model cannot call them. Use a model whose chat_template renders tools, or set AutoGlmChatClientOptions.ChatTemplate.")]
    public static partial void ToolsDropped(ILogger logger, int count, string modelId, string tools);
}
