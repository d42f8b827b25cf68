namespace AutoGlm;

/// <summary>A request was rejected because the model's request queue is full; retry later or raise the queue capacity.</summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class QueueFullException : AutoGlmException
{
    /// <summary>Creates the exception with a message that says what failed and how to fix it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    public QueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception, wrapping the failure that caused it.</summary>
    /// <param name="message">What failed, on which input, and how to fix it.</param>
    /// <param name="innerException">The underlying failure.</param>
    public QueueFullException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
