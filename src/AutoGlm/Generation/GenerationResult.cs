namespace AutoGlm.Generation;

/// <summary>The complete outcome of a generation request.</summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class GenerationResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="tokens">Every token the model sampled, in order.</param>
    /// <param name="text">The generated text (stop sequences excluded).</param>
    /// <param name="usage">Prompt and completion token counts.</param>
    /// <param name="finishReason">Why the request ended.</param>
    /// <param name="timings">Where the request's time went.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> or <paramref name="text"/> is <see langword="null"/>.</exception>
    public GenerationResult(IReadOnlyList<GeneratedToken> tokens, string text, GenerationUsage usage, FinishReason finishReason, GenerationTimings timings)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(text);
        Tokens = tokens;
        Text = text;
        Usage = usage;
        FinishReason = finishReason;
        Timings = timings;
    }

    /// <summary>Gets every token the model sampled, in order, including a final end-of-sequence or stop token.</summary>
    public IReadOnlyList<GeneratedToken> Tokens { get; }

    /// <summary>Gets the generated text; a matched stop sequence and the text of stop tokens are not part of it.</summary>
    public string Text { get; }

    /// <summary>Gets the prompt and completion token counts.</summary>
    public GenerationUsage Usage { get; }

    /// <summary>Gets why the request ended.</summary>
    public FinishReason FinishReason { get; }

    /// <summary>Gets where the request's time went: queue, time to first token, total and per output token.</summary>
    public GenerationTimings Timings { get; }
}
