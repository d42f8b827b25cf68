using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace AutoGlm.Cli;

/// <summary>
/// Builds the options of every <c>autoglm</c> command, each with its help text, completions and a one-line
/// validation message that quotes the bad value and says what is expected.
/// </summary>
internal static class CliOptions
{
    /// <summary>A text value; <paramref name="emptyHint"/> (when given) rejects an empty value with that advice.</summary>
    public static Option<string> Text(string name, string description, string valueName, bool required = false, string? emptyHint = null)
    {
        var option = new Option<string>(name) { Description = description, HelpName = valueName, Required = required };
        if (emptyHint is not null)
        {
            option.Validators.Add(result =>
            {
                if (result.Tokens.Count > 0 && result.Tokens[^1].Value.Length == 0)
                {
                    result.AddError($"option '{name}' is empty; {emptyHint}.");
                }
            });
        }

        return option;
    }

    /// <summary>A switch: present means true (<c>--name true|false</c> is also accepted).</summary>
    public static Option<bool> Flag(string name, string description)
        => new(name) { Description = description };

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>, <paramref name="defaultValue"/> when absent.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max)
        => new(name)
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => result.Tokens.Count == 0 ? defaultValue : ParseInt(result, name, min, max) ?? defaultValue,
        };

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>, null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max)
        => new(name)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result => result.Tokens.Count == 0 ? null : ParseInt(result, name, min, max),
        };

    /// <summary>A non-negative 64-bit integer, <paramref name="defaultValue"/> when absent.</summary>
    public static Option<ulong> UInt64(string name, string description, ulong defaultValue)
        => new(name)
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return defaultValue;
                }

                string text = result.Tokens[^1].Value;
                if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
                {
                    return value;
                }

                result.AddError($"option '{name}' must be a non-negative integer, not '{Quote(text)}'.");
                return defaultValue;
            },
        };

    /// <summary>A finite number from <paramref name="min"/> to <paramref name="max"/>, null when absent.</summary>
    public static Option<double?> OptionalDouble(string name, string description, double min, double max)
        => new(name)
        {
            Description = description,
            HelpName = "X",
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return null;
                }

                string text = result.Tokens[^1].Value;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= min && value <= max)
                {
                    return value;
                }

                result.AddError(Invariant($"option '{name}' must be a number from {min} to {max}, not '{Quote(text)}'."));
                return null;
            },
        };

    /// <summary>One of <paramref name="choices"/> (compared ignoring case, returned as listed), <paramref name="defaultValue"/> when absent; the choices are the completions.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return defaultValue;
                }

                string text = result.Tokens[^1].Value;
                string? match = choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase));
                if (match is null)
                {
                    result.AddError($"option '{name}' must be one of {string.Join(", ", choices)}, not '{Quote(text)}'.");
                    return defaultValue;
                }

                return match;
            },
        };
        option.CompletionSources.Add(choices);
        return option;
    }

    /// <summary>
    /// An explicit <c>true</c> or <c>false</c> (read it with <see cref="GetBool"/>). A string option, because a
    /// <see cref="bool"/> one would take <c>--name</c> alone as true and leave a bad value unconsumed.
    /// </summary>
    public static Option<string> OptionalBool(string name, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = "true|false",
            CustomParser = result =>
            {
                string text = result.Tokens[^1].Value;
                if (bool.TryParse(text, out bool value))
                {
                    return value ? "true" : "false";
                }

                result.AddError($"option '{name}' must be true or false, not '{Quote(text)}'.");
                return null;
            },
        };
        option.CompletionSources.Add("true", "false");
        return option;
    }

    /// <summary>The value of an <see cref="OptionalBool"/> option: null when absent.</summary>
    public static bool? GetBool(this ParseResult parse, Option<string> option) => parse.GetValue(option) switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    /// <summary>Shortens a value quoted in a message, so a mistyped 30 KB argument still gives a one-line error.</summary>
    public static string Quote(string value)
    {
        const int Limit = 60;
        string flat = value.ReplaceLineEndings(" ");
        return flat.Length <= Limit ? flat : Invariant($"{flat[..Limit]}… ({value.Length} characters)");
    }

    private static int? ParseInt(ArgumentResult result, string name, int min, int max)
    {
        string text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError(Invariant($"option '{name}' must be an integer from {min} to {max}, not '{Quote(text)}'."));
        return null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
