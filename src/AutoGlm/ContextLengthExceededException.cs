namespace AutoGlm;

/// <summary>A prompt is too long for the model's context: it leaves no room to generate. Shorten the prompt.</summary>
/// <remarks>An <see cref="ArgumentException"/> (the prompt is the bad argument). Instances are immutable and safe to share between threads.</remarks>
public sealed class ContextLengthExceededException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The lengths and the fix.</param>
    /// <param name="paramName">The argument that holds the prompt.</param>
    /// <param name="promptTokens">How many tokens the prompt has.</param>
    /// <param name="contextLength">How many tokens the model's context holds.</param>
    public ContextLengthExceededException(string message, string? paramName, int promptTokens, int contextLength)
        : base(message, paramName)
    {
        PromptTokens = promptTokens;
        ContextLength = contextLength;
    }

    /// <summary>Gets how many tokens the prompt has.</summary>
    public int PromptTokens { get; }

    /// <summary>Gets how many tokens the model's context holds.</summary>
    public int ContextLength { get; }
}
