namespace AutoGlm;

/// <summary>A model folder, checkpoint or weight file could not be read or does not describe a usable model; the message names the file and the field or tensor.</summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class ModelLoadException : AutoGlmException
{
    /// <summary>Creates the exception with a message that says what failed and how to fix it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    public ModelLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception, wrapping the failure that caused it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    /// <param name="innerException">The underlying failure.</param>
    public ModelLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
