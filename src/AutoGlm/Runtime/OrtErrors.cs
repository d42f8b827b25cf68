using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Runtime;

/// <summary>The one place that turns ONNX Runtime's exceptions into AutoGlm's, keeping ONNX Runtime's error code.</summary>
internal static class OrtErrors
{
    private const string CodePrefix = "[ErrorCode:";

    /// <summary>ONNX Runtime's code and message without the code prefix its .NET binding puts in front (<c>[ErrorCode:X] …</c>).</summary>
    public static (OnnxRuntimeErrorCode Code, string Message) Read(OnnxRuntimeException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Read(exception.Message);
    }

    /// <summary>Splits ONNX Runtime's binding's message text (<c>[ErrorCode:X] …</c>) into the code and the message.</summary>
    public static (OnnxRuntimeErrorCode Code, string Message) Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith(CodePrefix, StringComparison.Ordinal))
        {
            int end = text.IndexOf(']', StringComparison.Ordinal);
            if (end > CodePrefix.Length)
            {
                string name = text[CodePrefix.Length..end];
                OnnxRuntimeErrorCode code = Enum.TryParse(name, ignoreCase: false, out OnnxRuntimeErrorCode parsed) ? parsed : OnnxRuntimeErrorCode.Fail;
                return (code, text[(end + 1)..].Trim());
            }
        }

        return (OnnxRuntimeErrorCode.Fail, text);
    }

    /// <summary>An <see cref="AutoGlmNativeException"/> for <paramref name="exception"/>, saying what AutoGlm was doing.</summary>
    public static AutoGlmNativeException ToException(OnnxRuntimeException exception, string doing)
    {
        (OnnxRuntimeErrorCode code, string message) = Read(exception);
        return new AutoGlmNativeException(code, $"ONNX Runtime failed while {doing}: [{code}] {message}", exception);
    }
}
