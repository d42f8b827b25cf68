namespace AutoGlm;

/// <summary>
/// ONNX Runtime reported an error. <see cref="ErrorCode"/> is ONNX Runtime's own code
/// (for example <see cref="OnnxRuntimeErrorCode.InvalidArgument"/> for a wrong input name, dtype or shape).
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class AutoGlmNativeException : AutoGlmException
{
    /// <summary>Creates the exception from an ONNX Runtime error code and message.</summary>
    /// <param name="errorCode">ONNX Runtime's error code.</param>
    /// <param name="message">The message, including what AutoGlm was doing when the error occurred.</param>
    public AutoGlmNativeException(OnnxRuntimeErrorCode errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Creates the exception from an ONNX Runtime error code and message, keeping the original exception.</summary>
    /// <param name="errorCode">ONNX Runtime's error code.</param>
    /// <param name="message">The message, including what AutoGlm was doing when the error occurred.</param>
    /// <param name="innerException">ONNX Runtime's own exception.</param>
    public AutoGlmNativeException(OnnxRuntimeErrorCode errorCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>ONNX Runtime's error code.</summary>
    public OnnxRuntimeErrorCode ErrorCode { get; }
}

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in its C API).</summary>
public enum OnnxRuntimeErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,
    /// <summary>Unspecified failure.</summary>
    Fail = 1,
    /// <summary>An argument was invalid: a wrong input name, element type or shape, for example.</summary>
    InvalidArgument = 2,
    /// <summary>A file does not exist.</summary>
    NoSuchFile = 3,
    /// <summary>No model was loaded.</summary>
    NoModel = 4,
    /// <summary>The execution engine failed.</summary>
    EngineError = 5,
    /// <summary>A runtime error, including a run cancelled through its run options.</summary>
    RuntimeException = 6,
    /// <summary>The model is not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,
    /// <summary>A model was already loaded.</summary>
    ModelLoaded = 8,
    /// <summary>The operation is not implemented.</summary>
    NotImplemented = 9,
    /// <summary>The graph is invalid.</summary>
    InvalidGraph = 10,
    /// <summary>An execution provider failed.</summary>
    ExecutionProviderFail = 11,
    /// <summary>A model loading was cancelled.</summary>
    ModelLoadCanceled = 12,
    /// <summary>A model requires compilation.</summary>
    ModelRequiresCompilation = 13,
    /// <summary>The requested item was not found.</summary>
    NotFound = 14,
}
