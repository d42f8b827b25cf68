using System.Text;

namespace AutoGlm.Chat.Jinja;

/// <summary>
/// A template's text after Hugging Face's fixed environment settings (<c>trim_blocks</c>,
/// <c>lstrip_blocks</c>, one trailing newline dropped), with a map back to the original text so errors
/// can name the original line.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class TemplateSource
{
    private readonly int[] _originalOffsets;
    private readonly string _original;

    public TemplateSource(string original, string name)
    {
        _original = original;
        Name = name;
        var text = new StringBuilder(original.Length);
        var offsets = new List<int>(original.Length + 1);
        int length = original.EndsWith('\n') ? original.Length - 1 : original.Length;
        bool lineStart = true;
        int i = 0;
        while (i < length)
        {
            if (lineStart)
            {
                // lstrip_blocks: spaces and tabs before a block or comment tag at the start of a line go.
                int j = i;
                while (j < length && original[j] is ' ' or '\t')
                {
                    j++;
                }

                if (j + 1 < length && j > i && original[j] == '{' && original[j + 1] is '%' or '#' or '-')
                {
                    i = j;
                }
            }

            char c = original[i];
            if (c is '%' or '#' or '-' && i + 2 < length && original[i + 1] == '}' && original[i + 2] == '\n')
            {
                // trim_blocks: the first newline after a block or comment tag goes.
                text.Append(c).Append('}');
                offsets.Add(i);
                offsets.Add(i + 1);
                i += 3;
                lineStart = true;
                continue;
            }

            text.Append(c);
            offsets.Add(i);
            lineStart = c is '\n' or '\r' or '\u2028' or '\u2029';
            i++;
        }

        offsets.Add(length);
        Text = text.ToString();
        _originalOffsets = [.. offsets];
    }

    /// <summary>The template's name, for messages (a file path and template name, or "GLM-4 built-in").</summary>
    public string Name { get; }

    /// <summary>The preprocessed text the lexer reads.</summary>
    public string Text { get; }

    /// <summary>Describes a position of <see cref="Text"/> as "line L, column C ('the original line')".</summary>
    public string Describe(int offset)
    {
        int original = _originalOffsets[Math.Clamp(offset, 0, _originalOffsets.Length - 1)];
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < original && i < _original.Length; i++)
        {
            if (_original[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        int lineEnd = _original.IndexOf('\n', lineStart);
        string lineText = _original[lineStart..(lineEnd < 0 ? _original.Length : lineEnd)].Trim();
        if (lineText.Length > 80)
        {
            int from = Math.Clamp(original - lineStart - 40, 0, lineText.Length - 80);
            lineText = string.Concat("…", lineText.AsSpan(from, 80), "…");
        }

        return $"line {line}, column {original - lineStart + 1} ('{lineText}')";
    }
}
