namespace AutoGlm.Tokenization;

/// <summary>One pre-tokenization step: cuts a piece of text into smaller pieces.</summary>
/// <remarks>Implementations are immutable and safe to share between threads.</remarks>
internal abstract class TextSplitter
{
    /// <summary>Appends the pieces of <paramref name="text"/>, as ranges offset by <paramref name="offset"/>, to <paramref name="pieces"/>.</summary>
    public abstract void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces);
}
