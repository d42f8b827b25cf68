using System.Text.RegularExpressions;

namespace AutoGlm.Tokenization;

/// <summary>
/// A <c>Split</c> pre-tokenizer with the file's own pattern, run by .NET regular expressions.
/// .NET matches UTF-16 code units, so a class such as <c>\p{L}</c> does not match a letter outside the
/// Basic Multilingual Plane; the known GLM / Llama-3 / Qwen patterns use <see cref="Cl100kPatternSplitter"/> instead.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class RegexSplitter : TextSplitter
{
    private readonly Regex _regex;
    private readonly bool _removeMatches;
    private readonly bool _invert;

    public RegexSplitter(Regex regex, bool removeMatches, bool invert)
    {
        _regex = regex;
        _removeMatches = removeMatches;
        _invert = invert;
    }

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        int position = 0;
        foreach (ValueMatch match in _regex.EnumerateMatches(text))
        {
            if (match.Length == 0)
            {
                continue;
            }

            if (match.Index > position)
            {
                AddPiece(pieces, offset + position, match.Index - position, isMatch: false);
            }

            AddPiece(pieces, offset + match.Index, match.Length, isMatch: true);
            position = match.Index + match.Length;
        }

        if (position < text.Length)
        {
            AddPiece(pieces, offset + position, text.Length - position, isMatch: false);
        }
    }

    private void AddPiece(List<(int Start, int Length)> pieces, int start, int length, bool isMatch)
    {
        bool isSeparator = _invert ? !isMatch : isMatch;
        if (_removeMatches && isSeparator)
        {
            return;
        }

        pieces.Add((start, length));
    }
}
