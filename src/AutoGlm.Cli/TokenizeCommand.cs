using System.CommandLine;
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
    public static Command Create()
    {
        Option<string> model = GenerateCommand.ModelOption(required: false);
        model.Description = "A model folder; its tokenizer.json (or tokenizer.model) is used.";
        Option<string> tokenizer = CliOptions.Text("--tokenizer", "A tokenizer file (tokenizer.json, or a tiktoken or SentencePiece tokenizer.model) instead of a model folder.", "FILE", emptyHint: "give a tokenizer file");
        Option<string> text = CliOptions.Text("--text", "The text to encode (with --decode: the ids to decode).", "TEXT");
        Option<string> file = CliOptions.Text("--file", "A UTF-8 file holding the text (with --decode: the ids).", "FILE", emptyHint: "give a file to read");
        Option<bool> json = CliOptions.Flag("--json", "Print a JSON array of ids (with --decode: a JSON string).");
        Option<bool> decode = CliOptions.Flag("--decode", "Turn ids (a JSON array, or numbers separated by spaces or commas) back into text.");
        Option<bool> noSpecial = CliOptions.Flag("--no-special-tokens", "Encode special tokens written in the text as plain text.");

        var command = new Command("tokenize", "Turn text into token ids as the Hugging Face tokenizer's encode(text, add_special_tokens=False) does, or ids back into text with --decode.")
        {
            model, tokenizer, text, file, json, decode, noSpecial,
        };
        command.Validators.Add(result =>
        {
            bool hasModel = result.GetResult(model) is { Implicit: false };
            bool hasTokenizer = result.GetResult(tokenizer) is { Implicit: false };
            if (hasModel == hasTokenizer)
            {
                result.AddError(hasModel ? "give only one of --model and --tokenizer." : "--model or --tokenizer is required.");
            }

            if ((result.GetResult(text) is { Implicit: false }) == (result.GetResult(file) is { Implicit: false }))
            {
                result.AddError("give exactly one of --text and --file.");
            }
        });
        command.SetAction(parse => Run(
            parse.GetValue(model) ?? parse.GetValue(tokenizer)!,
            parse.GetValue(text),
            parse.GetValue(file),
            parse.GetValue(json),
            parse.GetValue(decode),
            !parse.GetValue(noSpecial)));
        return command;
    }

    private static int Run(string model, string? text, string? file, bool json, bool decode, bool parseSpecial)
    {
        string input = text ?? File.ReadAllText(file!, Encoding.UTF8);
        Tokenizer tokenizer = Tokenizer.Load(model);
        if (decode)
        {
            int[] ids = ParseIds(input);
            string decoded = tokenizer.Decode(ids);
            Console.Out.WriteLine(json ? JsonSerializer.Serialize(decoded, CliJson.Options) : decoded);
            return ExitCodes.Ok;
        }

        IReadOnlyList<int> encoded = tokenizer.Encode(input, parseSpecial);
        Console.Out.WriteLine(json
            ? "[" + string.Join(",", encoded.Select(id => id.ToString(CultureInfo.InvariantCulture))) + "]"
            : string.Join(" ", encoded.Select(id => id.ToString(CultureInfo.InvariantCulture))));
        return ExitCodes.Ok;
    }

    /// <summary>Reads ids written as a JSON array or separated by white space or commas.</summary>
    private static int[] ParseIds(string input)
    {
        string[] parts = input.Trim().TrimStart('[').TrimEnd(']').Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new CommandLineException($"--decode expects token ids (a JSON array or numbers separated by spaces), but item {i + 1} is '{CliOptions.Quote(parts[i])}'.");
            }
        }

        return ids;
    }
}
