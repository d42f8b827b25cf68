namespace AutoGlm.Generation;

/// <summary>How many tokens a generation request consumed and produced.</summary>
/// <remarks>An immutable value; safe to share between threads.</remarks>
/// <param name="PromptTokens">Tokens in the prompt fed to the model.</param>
/// <param name="CompletionTokens">Tokens the model sampled, including a final end-of-sequence or stop token.</param>
public readonly record struct GenerationUsage(int PromptTokens, int CompletionTokens)
{
    /// <summary>Gets the prompt and completion tokens together.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}
