using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoGlm.Tokenization;

namespace AutoGlm.Cli;

/// <summary>
/// <c>autoglm tokenize (--model MODEL | --tokenizer FILE) (--text TEXT | --file FILE) [--json] [--decode] [--no-special-tokens]</c>:
/// prints the ids the Hugging Face tokenizer's <c>encode(text, add_special_tokens=False)</c> gives (special tokens written in the
/// text are recognised, no BOS/EOS added), or with <c>--decode</c> turns ids back into text.
/// </summary>
internal static class TokenizeCommand
{
    private const string Usage = "usage: autoglm tokenize (--model MODEL | --tokenizer FILE) (--text TEXT | --file FILE) [--json] [--decode] [--no-special-tokens]";

    internal static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? model = null;
        string? text = null;
        string? file = null;
        bool json = false;
        bool decode = false;
        bool parseSpecial = true;
        for (int i = 0; i < args.Length; i++)
        {
            string argument = args[i];
            switch (argument)
            {
                case "--model" or "--tokenizer" or "--text" or "--file":
                    if (i + 1 >= args.Length)
                    {
                        return Fail(error, $"{argument} needs a value; {Usage}");
                    }

                    string value = args[++i];
                    if (argument == "--text")
                    {
                        text = value;
                    }
                    else if (argument == "--file")
                    {
                        file = value;
                    }
                    else if (model is not null)
                    {
                        return Fail(error, $"give only one of --model and --tokenizer; {Usage}");
                    }
                    else
                    {
                        model = value;
                    }

                    break;
                case "--json":
                    json = true;
                    break;
                case "--decode":
                    decode = true;
                    break;
                case "--no-special-tokens":
                    parseSpecial = false;
                    break;
                default:
                    return Fail(error, $"unknown option '{argument}'; {Usage}");
            }
        }

        if (model is null)
        {
            return Fail(error, $"--model or --tokenizer is required; {Usage}");
        }

        if ((text is null) == (file is null))
        {
            return Fail(error, $"give exactly one of --text and --file; {Usage}");
        }

        try
        {
            string input = text ?? File.ReadAllText(file!, Encoding.UTF8);
            Tokenizer tokenizer = Tokenizer.Load(model);
            if (decode)
            {
                if (!TryParseIds(input, out int[] ids, out string? problem))
                {
                    return Fail(error, problem!);
                }

                string decoded = tokenizer.Decode(ids);
                output.WriteLine(json ? JsonSerializer.Serialize(decoded, CliJson.Options) : decoded);
                return 0;
            }

            IReadOnlyList<int> encoded = tokenizer.Encode(input, parseSpecial);
            output.WriteLine(json
                ? "[" + string.Join(",", encoded.Select(id => id.ToString(CultureInfo.InvariantCulture))) + "]"
                : string.Join(" ", encoded.Select(id => id.ToString(CultureInfo.InvariantCulture))));
            return 0;
        }
        catch (Exception e) when (e is AutoGlmException or IOException or UnauthorizedAccessException)
        {
            return Fail(error, e.Message);
        }
    }

    /// <summary>Reads ids written as a JSON array or separated by white space or commas.</summary>
    private static bool TryParseIds(string input, out int[] ids, out string? problem)
    {
        string[] parts = input.Trim().TrimStart('[').TrimEnd(']').Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                problem = $"--decode expects token ids (a JSON array or numbers separated by spaces), but item {i + 1} is '{parts[i]}'";
                return false;
            }
        }

        problem = null;
        return true;
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"autoglm tokenize: {message}");
        return 1;
    }
}
