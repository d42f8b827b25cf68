namespace AutoGlm.Cli;

/// <summary>
/// A value on the command line is wrong in a way only the command can tell (a provider name, a concurrency list);
/// the message says which and what is expected. Exits with <see cref="ExitCodes.Usage"/>.
/// </summary>
internal sealed class CommandLineException : Exception
{
    public CommandLineException(string message)
        : base(message)
    {
    }
}
