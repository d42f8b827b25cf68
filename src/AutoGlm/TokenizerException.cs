namespace AutoGlm;

/// <summary>A tokenizer or chat template file is malformed or uses an unsupported component; the message names the file and the position or component.</summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class TokenizerException : AutoGlmException
{
    /// <summary>Creates the exception with a message that says what failed and how to fix it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    public TokenizerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception, wrapping the failure that caused it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    /// <param name="innerException">The underlying failure.</param>
    public TokenizerException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
