using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AutoGlm.Tokenization;

/// <summary>
/// A <c>Split</c> pre-tokenizer with the file's own pattern, run by .NET regular expressions (the known GLM /
/// Llama-3 / Qwen patterns use <see cref="Cl100kPatternSplitter"/> instead).
/// </summary>
/// <remarks>
/// <para>
/// Hugging Face matches code points where .NET matches UTF-16 code units, so <c>\p{So}</c> or <c>.</c> would see
/// half of 😀. Text with surrogate pairs is therefore matched in a stand-in form: each astral code point becomes one
/// BMP character of the same Unicode category (categories are all that <c>\p{..}</c>, <c>\w</c>, <c>\d</c>,
/// <c>\s</c> and <c>.</c> look at), and the matches are mapped back to the original text.
/// </para>
/// <para>
/// The patterns come from files, so a catastrophic one such as <c>(a+)+$</c> must not hang the caller: every match has
/// a time limit and running past it raises a <see cref="TokenizerException"/> naming the file and the pattern.
/// (.NET's linear-time NonBacktracking engine is not used: it does not support the look-arounds tokenizer patterns use,
/// and it drops matches of patterns with an optional prefix such as <c> ?, ?</c>.)
/// </para>
/// Immutable; safe to share between threads.
/// </remarks>
internal sealed class RegexSplitter : TextSplitter
{
    /// <summary>How long one match may take.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private static readonly char[] s_standIns = CreateStandIns();

    private readonly Regex _regex;
    private readonly bool _removeMatches;
    private readonly bool _invert;
    private readonly string _source;
    private readonly string _path;

    public RegexSplitter(Regex regex, bool removeMatches, bool invert, string source, string path)
    {
        _regex = regex;
        _removeMatches = removeMatches;
        _invert = invert;
        _source = source;
        _path = path;
    }

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        try
        {
            int surrogate = text.IndexOfAnyInRange('\uD800', '\uDFFF');
            if (surrogate < 0)
            {
                SplitCore(text, offset, pieces, map: default);
                return;
            }

            SplitWithStandIns(text, offset, pieces);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new TokenizerException(
                $"The tokenizer file '{_source}' has a split pattern at '{_path}.pattern' that took longer than {MatchTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s on one piece of text " +
                $"({text.Length} characters): it backtracks catastrophically, so the file is damaged or hostile. Use the tokenizer.json published with the model. The pattern is: {_regex}",
                e);
        }
    }

    private void SplitWithStandIns(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        char[] mapped = ArrayPool<char>.Shared.Rent(text.Length);
        int[] map = ArrayPool<int>.Shared.Rent(text.Length + 1);
        try
        {
            int length = 0;
            int i = 0;
            while (i < text.Length)
            {
                map[length] = i;
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    var rune = new Rune(text[i], text[i + 1]);
                    mapped[length++] = s_standIns[(int)Rune.GetUnicodeCategory(rune)];
                    i += 2;
                }
                else
                {
                    // A lone surrogate stays itself: it is one code point of category Surrogate either way.
                    mapped[length++] = text[i++];
                }
            }

            map[length] = text.Length;
            SplitCore(mapped.AsSpan(0, length), offset, pieces, map.AsSpan(0, length + 1));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(mapped);
            ArrayPool<int>.Shared.Return(map);
        }
    }

    /// <summary>Splits <paramref name="text"/>; with a <paramref name="map"/>, positions in it are mapped back to the original text.</summary>
    private void SplitCore(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces, ReadOnlySpan<int> map)
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
                AddPiece(pieces, offset, position, match.Index, map, isMatch: false);
            }

            AddPiece(pieces, offset, match.Index, match.Index + match.Length, map, isMatch: true);
            position = match.Index + match.Length;
        }

        if (position < text.Length)
        {
            AddPiece(pieces, offset, position, text.Length, map, isMatch: false);
        }
    }

    private void AddPiece(List<(int Start, int Length)> pieces, int offset, int start, int end, ReadOnlySpan<int> map, bool isMatch)
    {
        bool isSeparator = _invert ? !isMatch : isMatch;
        if (_removeMatches && isSeparator)
        {
            return;
        }

        if (!map.IsEmpty)
        {
            start = map[start];
            end = map[end];
        }

        pieces.Add((offset + start, end - start));
    }

    /// <summary>
    /// One BMP character per Unicode category, from scripts that split patterns do not name literally (no ASCII,
    /// Latin-1, CJK, kana or hangul), so a stand-in matches exactly what its astral original would.
    /// </summary>
    private static char[] CreateStandIns()
    {
        var standIns = new char[(int)UnicodeCategory.OtherNotAssigned + 1];
        for (int category = 0; category < standIns.Length; category++)
        {
            standIns[category] = '\uFFFD';
        }

        var found = new bool[standIns.Length];
        for (int c = 0x0370; c < 0x10000; c++)
        {
            if (c is (>= 0x2E80 and < 0xA000) or (>= 0xAC00 and < 0xF900) or (>= 0xFF00 and < 0xFFF0))
            {
                continue;
            }

            int category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (!found[category])
            {
                found[category] = true;
                standIns[category] = (char)c;
            }
        }

        // Code points the BMP has no character of the same category for keep U+FFFD's (So); none is assigned in Unicode 16.
        standIns[(int)UnicodeCategory.PrivateUse] = '\uE000';
        standIns[(int)UnicodeCategory.Surrogate] = '\uD800';
        return standIns;
    }
}
