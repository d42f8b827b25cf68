namespace AutoGlm;

/// <summary>
/// The ONNX Runtime native library could not be found, could not be loaded, or is older than AutoGlm needs.
/// The message lists every path that was tried and how to fix it.
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class OnnxRuntimeLoadException : AutoGlmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, the paths tried, and how to fix it.</param>
    /// <param name="probedPaths">Every path or library name that was tried, in order.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public OnnxRuntimeLoadException(string message, IReadOnlyList<string> probedPaths, Exception? innerException = null)
        : base(message, innerException)
    {
        ProbedPaths = probedPaths;
    }

    /// <summary>Every path or library name that was tried, in order.</summary>
    public IReadOnlyList<string> ProbedPaths { get; }
}
