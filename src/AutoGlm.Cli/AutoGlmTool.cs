using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace AutoGlm.Cli;

/// <summary>
/// The <c>autoglm</c> command tree on System.CommandLine, and the one place every outcome becomes an exit code and
/// at most one line on stderr (<see cref="ExitCodes"/>).
/// </summary>
internal static class AutoGlmTool
{
    /// <summary>Global: print the stack trace of a failure.</summary>
    private static readonly Option<bool> s_verbose = new("--verbose")
    {
        Description = "On a failure, also print the exception's stack trace.",
        Recursive = true,
    };

    /// <summary>Parses <paramref name="args"/>, runs the command, and returns its exit code; never throws.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="signal">Which signal asked to stop (<see cref="ExitCodes.Cancelled"/> or <see cref="ExitCodes.Terminated"/>), read when the command ends cancelled.</param>
    /// <param name="cancellationToken">Fires on Ctrl+C or SIGTERM.</param>
    public static async Task<int> RunAsync(string[] args, Func<int> signal, CancellationToken cancellationToken)
    {
        string commandPath = "autoglm";
        bool verbose = args.Contains("--verbose", StringComparer.Ordinal);
        try
        {
            RootCommand root = CreateRootCommand();
            ParseResult parse = root.Parse(args, CreateParserConfiguration());
            commandPath = CommandPath(parse.CommandResult.Command);
            if (parse.Action is ParseErrorAction)
            {
                Console.Error.WriteLine(DescribeParseErrors(parse, root, commandPath));
                return ExitCodes.Usage;
            }

            var invocation = new InvocationConfiguration
            {
                // One handler for everything below; Ctrl+C and SIGTERM are Program's (chat takes Ctrl+C for itself).
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            (int exitCode, string message) = CliFailure.Describe(ex, signal(), cancellationToken.IsCancellationRequested);
            if (exitCode == ExitCodes.Usage)
            {
                message += $" Run '{commandPath} --help' for the options.";
            }

            Console.Error.WriteLine($"{commandPath}: {CliFailure.OneLine(message)}");
            if (verbose)
            {
                Console.Error.WriteLine(ex.ToString());
            }

            return exitCode;
        }
    }

    /// <summary>Every command with every option, as the README and <c>autoglm --help</c> document them.</summary>
    internal static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("autoglm: run GLM-family models locally on ONNX Runtime.")
        {
            ChatCommand.Create(),
            GenerateCommand.Create(),
            RandomCommand.Create(),
            BuildCommand.Create(),
            TokenizeCommand.Create(),
            DoctorCommand.Create(),
            BenchCommand.Create(),
        };
        root.Options.Add(s_verbose);

        var topic = new Argument<string?>("command") { Arity = ArgumentArity.ZeroOrOne, Description = "The command to describe." };
        var help = new Command("help", "Show help for autoglm or one of its commands.") { topic };
        help.Hidden = true;
        help.SetAction(parse =>
        {
            string? name = parse.GetValue(topic);
            return root.Parse(name is null ? ["--help"] : [name, "--help"]).Invoke();
        });
        root.Subcommands.Add(help);

        // No command: show the commands, and fail as any other incomplete command line does.
        root.SetAction(parse =>
        {
            new HelpAction().Invoke(parse);
            Console.Error.WriteLine("autoglm: give a command (chat, generate, random, build, tokenize, doctor, bench). Run 'autoglm <command> --help' for its options.");
            return ExitCodes.Usage;
        });
        return root;
    }

    private static ParserConfiguration CreateParserConfiguration()
    {
        var configuration = new ParserConfiguration();
        TryReplaceToken? responseFiles = configuration.ResponseFileTokenReplacer;
        configuration.ResponseFileTokenReplacer = responseFiles is null
            ? null
            : (string token, out IReadOnlyList<string>? replacement, out string? error) =>
            {
                // '@FILE' reads arguments from FILE; a value that merely starts with '@' (a prompt "@bot hi") stays as it is.
                if (File.Exists(token))
                {
                    return responseFiles(token, out replacement, out error);
                }

                replacement = null;
                error = null;
                return false;
            };
        return configuration;
    }

    private static string DescribeParseErrors(ParseResult parse, RootCommand root, string commandPath)
    {
        Command command = parse.CommandResult.Command;

        // "--dtype --out DIR": System.CommandLine takes '--out' as the value of '--dtype'; every error after that is noise.
        var optionNames = new HashSet<string>(command.Options.Concat(root.Options).SelectMany(o => o.Aliases.Prepend(o.Name)), StringComparer.Ordinal);
        foreach (OptionResult option in parse.CommandResult.Children.OfType<OptionResult>())
        {
            if (option.Tokens.FirstOrDefault(t => optionNames.Contains(t.Value)) is { } swallowed)
            {
                return $"{commandPath}: option '{option.Option.Name}' needs a value, but the next argument is the option '{swallowed.Value}'. Run '{commandPath} --help' for the options.";
            }
        }

        var problems = new List<string>();
        var unmatchedMessages = new HashSet<string>(StringComparer.Ordinal);
        foreach (string token in parse.UnmatchedTokens)
        {
            unmatchedMessages.Add($"Unrecognized command or argument '{token}'.");
            if (token.StartsWith('-'))
            {
                problems.Add($"unknown option '{CliOptions.Quote(token)}'{Suggest(token, command.Options.Concat(root.Options.Where(o => o.Recursive)).SelectMany(o => o.Aliases.Prepend(o.Name)))}.");
            }
            else if (command == root)
            {
                return $"autoglm: unknown command '{CliOptions.Quote(token)}'{Suggest(token, root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}. Run 'autoglm --help' for the list.";
            }
            else if (!problems.Any(p => p.StartsWith("unknown option", StringComparison.Ordinal)))
            {
                // After an unknown option its value is unmatched too; naming the option is enough.
                problems.Add($"unexpected argument '{CliOptions.Quote(token)}'; options start with '--'.");
            }
        }

        foreach (ParseError error in parse.Errors)
        {
            if (!unmatchedMessages.Contains(error.Message) && !problems.Contains(error.Message, StringComparer.Ordinal))
            {
                problems.Add(error.Message);
            }
        }

        return CliFailure.OneLine($"{commandPath}: {string.Join(" ", problems)} Run '{commandPath} --help' for the options.");
    }

    /// <summary>" (did you mean '--max-new-tokens'?)" when one name is close to what was typed.</summary>
    private static string Suggest(string typed, IEnumerable<string> names)
    {
        string bare = typed.Split('=', ':')[0];
        string? best = names
            .Distinct(StringComparer.Ordinal)
            .Select(name => (Name: name, Distance: EditDistance(bare, name)))
            .Where(c => c.Distance <= Math.Max(2, c.Name.Length / 3))
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)
            .FirstOrDefault();
        return best is null ? "" : $" (did you mean '{best}'?)";
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string CommandPath(Command command) => command is RootCommand ? "autoglm" : $"autoglm {command.Name}";
}
