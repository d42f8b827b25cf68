using System.Globalization;
using System.Text;
using AutoGlm.Tokenization;

namespace AutoGlm.Chat.Jinja;

/// <summary>Splits a template into tokens, applying <c>-</c> whitespace control.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateLexer
{
    private static readonly string[] s_symbols =
    [
        "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";",
    ];

    public static List<TemplateToken> Tokenize(TemplateSource source)
    {
        string text = source.Text;
        var tokens = new List<TemplateToken>();
        int position = 0;
        while (position < text.Length)
        {
            int tagStart = FindTag(text, position);
            if (tagStart > position)
            {
                tokens.Add(new TemplateToken(TemplateTokenKind.Text, text[position..tagStart], position));
            }

            if (tagStart >= text.Length)
            {
                break;
            }

            char kind = text[tagStart + 1];
            bool stripBefore = tagStart + 2 < text.Length && text[tagStart + 2] == '-';
            if (stripBefore)
            {
                StripTrailingWhiteSpace(tokens);
            }

            int inner = tagStart + (stripBefore ? 3 : 2);
            if (kind == '#')
            {
                int close = text.IndexOf("#}", inner, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new TemplateException(tagStart, "the comment '{#' is never closed with '#}'");
                }

                position = close + 2;
                if (close > inner && text[close - 1] == '-')
                {
                    position = SkipWhiteSpace(text, position);
                }

                continue;
            }

            tokens.Add(new TemplateToken(kind == '%' ? TemplateTokenKind.OpenStatement : TemplateTokenKind.OpenExpression, kind == '%' ? "{%" : "{{", tagStart));
            position = LexTag(source, inner, kind == '%' ? '%' : '}', tokens);
        }

        tokens.Add(new TemplateToken(TemplateTokenKind.End, "", text.Length));
        return tokens;
    }

    private static int FindTag(string text, int position)
    {
        while (true)
        {
            int brace = text.IndexOf('{', position);
            if (brace < 0 || brace + 1 >= text.Length)
            {
                return text.Length;
            }

            if (text[brace + 1] is '%' or '{' or '#')
            {
                return brace;
            }

            position = brace + 1;
        }
    }

    private static int LexTag(TemplateSource source, int position, char closer, List<TemplateToken> tokens)
    {
        string text = source.Text;
        int depth = 0;
        int start = position;
        while (true)
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }

            if (position >= text.Length)
            {
                throw new TemplateException(start - 2, closer == '%' ? "the tag '{%' is never closed with '%}'" : "the expression '{{' is never closed with '}}'");
            }

            char c = text[position];
            if (c == '-' && position + 2 < text.Length && text[position + 1] == closer && text[position + 2] == '}' && (closer == '%' || depth == 0))
            {
                tokens.Add(Close(closer, position));
                return SkipWhiteSpace(text, position + 3);
            }

            if (c == closer && position + 1 < text.Length && text[position + 1] == '}' && (closer == '%' || depth == 0))
            {
                tokens.Add(Close(closer, position));
                return position + 2;
            }

            if (c is '\'' or '"')
            {
                position = LexString(text, position, tokens);
            }
            else if (char.IsAsciiDigit(c))
            {
                int end = position;
                while (end < text.Length && char.IsAsciiDigit(text[end]))
                {
                    end++;
                }

                bool isFloat = end + 1 < text.Length && text[end] == '.' && char.IsAsciiDigit(text[end + 1])
                    && !(tokens.Count > 0 && tokens[^1].IsSymbol("."));
                if (isFloat)
                {
                    end++;
                    while (end < text.Length && char.IsAsciiDigit(text[end]))
                    {
                        end++;
                    }
                }

                tokens.Add(new TemplateToken(isFloat ? TemplateTokenKind.Float : TemplateTokenKind.Integer, text[position..end], position));
                position = end;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int end = position;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                {
                    end++;
                }

                tokens.Add(new TemplateToken(TemplateTokenKind.Identifier, text[position..end], position));
                position = end;
            }
            else
            {
                string? symbol = null;
                foreach (string candidate in s_symbols)
                {
                    if (string.CompareOrdinal(text, position, candidate, 0, candidate.Length) == 0)
                    {
                        symbol = candidate;
                        break;
                    }
                }

                if (symbol is null)
                {
                    throw new TemplateException(position, $"unexpected character '{c}'");
                }

                depth += symbol switch { "{" => 1, "}" => -1, _ => 0 };
                tokens.Add(new TemplateToken(TemplateTokenKind.Symbol, symbol, position));
                position += symbol.Length;
            }
        }
    }

    private static TemplateToken Close(char closer, int position) =>
        closer == '%' ? new TemplateToken(TemplateTokenKind.CloseStatement, "%}", position) : new TemplateToken(TemplateTokenKind.CloseExpression, "}}", position);

    private static int LexString(string text, int position, List<TemplateToken> tokens)
    {
        char quote = text[position];
        var value = new StringBuilder();
        int i = position + 1;
        while (true)
        {
            if (i >= text.Length)
            {
                throw new TemplateException(position, "a string literal is never closed");
            }

            char c = text[i++];
            if (c == quote)
            {
                break;
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (i >= text.Length)
            {
                throw new TemplateException(position, "a string literal ends with a lone backslash");
            }

            char escaped = text[i++];
            switch (escaped)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'v': value.Append('\v'); break;
                case '\\': value.Append('\\'); break;
                case '\'': value.Append('\''); break;
                case '"': value.Append('"'); break;
                case 'x' or 'u':
                    int digits = escaped == 'x' ? 2 : 4;
                    if (i + digits > text.Length || !int.TryParse(text.AsSpan(i, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                    {
                        throw new TemplateException(i - 2, $"invalid escape '\\{escaped}' in a string literal");
                    }

                    value.Append((char)code);
                    i += digits;
                    break;
                default:
                    throw new TemplateException(i - 2, $"unknown escape '\\{escaped}' in a string literal");
            }
        }

        tokens.Add(new TemplateToken(TemplateTokenKind.String, value.ToString(), position));
        return i;
    }

    private static void StripTrailingWhiteSpace(List<TemplateToken> tokens)
    {
        if (tokens.Count > 0 && tokens[^1].Kind == TemplateTokenKind.Text)
        {
            string trimmed = tokens[^1].Value.TrimEnd();
            if (trimmed.Length == 0)
            {
                tokens.RemoveAt(tokens.Count - 1);
            }
            else
            {
                tokens[^1] = tokens[^1] with { Value = trimmed };
            }
        }
    }

    private static int SkipWhiteSpace(string text, int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        return position;
    }
}
