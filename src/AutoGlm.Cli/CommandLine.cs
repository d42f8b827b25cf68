using System.Globalization;

namespace AutoGlm.Cli;

/// <summary>
/// A verb's arguments: <c>--name value</c> options, <c>--flag</c> switches. Every option a verb reads is
/// recorded, so <see cref="ThrowOnUnknown"/> can reject typos with the list of valid options.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public CommandLine(string[] args, params string[] switches)
    {
        var switchSet = new HashSet<string>(switches, StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new CommandLineException($"unexpected argument '{arg}'; options start with '--'.");
            }

            string name = arg[2..];
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                _values[name[..eq]] = name[(eq + 1)..];
            }
            else if (switchSet.Contains(name))
            {
                _values[name] = null;
            }
            else if (i + 1 < args.Length)
            {
                _values[name] = args[++i];
            }
            else
            {
                throw new CommandLineException($"option '--{name}' needs a value.");
            }
        }
    }

    public bool Has(string name)
    {
        _known.Add(name);
        return _values.ContainsKey(name);
    }

    public string? Get(string name)
    {
        _known.Add(name);
        return _values.TryGetValue(name, out string? value) ? value : null;
    }

    public string Require(string name)
        => Get(name) ?? throw new CommandLineException($"option '--{name}' is required.");

    public int GetInt(string name, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        string? text = Get(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new CommandLineException($"option '--{name}' must be an integer from {min} to {max}, not '{text}'.");
        }

        return value;
    }

    public double GetDouble(string name, double defaultValue, double min = double.MinValue, double max = double.MaxValue)
    {
        string? text = Get(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < min || value > max || double.IsNaN(value))
        {
            throw new CommandLineException($"option '--{name}' must be a number from {min} to {max}, not '{text}'.");
        }

        return value;
    }

    /// <summary>Rejects any option no <c>Get</c>/<c>Has</c> asked for.</summary>
    public void ThrowOnUnknown()
    {
        foreach (string name in _values.Keys)
        {
            if (!_known.Contains(name))
            {
                throw new CommandLineException($"unknown option '--{name}'. Valid options: {string.Join(", ", _known.Order(StringComparer.Ordinal).Select(k => "--" + k))}.");
            }
        }
    }
}
