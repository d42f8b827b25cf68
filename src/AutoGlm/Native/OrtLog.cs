using Microsoft.Extensions.Logging;

namespace AutoGlm.Native;

/// <summary>Log messages of the native layer.</summary>
internal static partial class OrtLog
{
    [LoggerMessage(EventId = 1, Message = "ONNX Runtime: {Message} ({CodeLocation})")]
    public static partial void NativeMessage(ILogger logger, LogLevel level, string message, string codeLocation);
}
