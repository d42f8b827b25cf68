using Microsoft.Extensions.Logging;

namespace AutoGlm.Runtime;

/// <summary>Log messages of the runtime layer.</summary>
internal static partial class OrtLog
{
    [LoggerMessage(EventId = 1, Message = "ONNX Runtime: {Message} ({CodeLocation})")]
    public static partial void NativeMessage(ILogger logger, LogLevel level, string message, string codeLocation);
}
