namespace AutoGlm.Cli;

/// <summary>Parses <c>--name value</c> and <c>--flag</c> arguments of one verb, rejecting unknown ones.</summary>
internal sealed class CommandLineArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    private CommandLineArguments()
    {
    }

    /// <summary>Parses <paramref name="args"/> (after the verb); <paramref name="flags"/> take no value.</summary>
    public static CommandLineArguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> options, IReadOnlyCollection<string> flags)
    {
        var result = new CommandLineArguments();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (flags.Contains(name))
            {
                result._values[name] = null;
            }
            else if (options.Contains(name))
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"Option {name} needs a value.");
                }

                result._values[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{name}'. Known: {string.Join(" ", options.Concat(flags))}.");
            }
        }

        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Required(string name) => _values.GetValueOrDefault(name) ?? throw new ArgumentException($"Option {name} is required.");

    public int? Int(string name)
    {
        string? text = Get(name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"Option {name} needs a positive integer, not '{text}'.");
    }

    public double? Double(string name)
    {
        string? text = Get(name);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new ArgumentException($"Option {name} needs a number, not '{text}'.");
    }

    public bool? Bool(string name)
    {
        string? text = Get(name);
        return text switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw new ArgumentException($"Option {name} needs true or false, not '{text}'."),
        };
    }
}
