namespace AutoGlm;

/// <summary>
/// An execution provider (CUDA, DirectML, ...) was requested but cannot be used on this machine;
/// the message names the provider, what is missing, and how to install it.
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class ExecutionProviderUnavailableException : AutoGlmException
{
    /// <summary>Creates the exception for <paramref name="providerName"/>.</summary>
    /// <param name="providerName">The provider that could not be used, e.g. <c>CUDA</c>.</param>
    /// <param name="message">What is missing and how to install it.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public ExecutionProviderUnavailableException(string providerName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ProviderName = providerName;
    }

    /// <summary>The provider that could not be used, e.g. <c>CUDA</c> or <c>DirectML</c>.</summary>
    public string ProviderName { get; }
}
