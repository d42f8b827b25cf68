namespace AutoGlm.Generation;

/// <summary>Why a generation request ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-sequence token or a stop token id, or the text reached a stop sequence.</summary>
    Stop,

    /// <summary>The request produced <see cref="GenerationOptions.MaxNewTokens"/> tokens, or the model's context is full.</summary>
    Length,

    /// <summary>
    /// The request was cancelled before it finished. Callers of the generation methods observe this as an
    /// <see cref="OperationCanceledException"/>; the value is reported to telemetry and internal observers.
    /// </summary>
    Cancelled,
}
