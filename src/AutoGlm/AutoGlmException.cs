namespace AutoGlm;

/// <summary>
/// The base of every exception AutoGlm raises for a failure the caller can act on
/// (a bad model folder, a missing provider, a malformed tokenizer, a full queue, a native error).
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public class AutoGlmException : Exception
{
    /// <summary>Creates an exception with a message that says what failed and how to fix it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    public AutoGlmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception that wraps the failure that caused it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    /// <param name="innerException">The underlying failure.</param>
    public AutoGlmException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
