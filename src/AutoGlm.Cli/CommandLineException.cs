namespace AutoGlm.Cli;

/// <summary>The command line is wrong (unknown flag, missing value); the message says which and what is expected.</summary>
internal sealed class CommandLineException : Exception
{
    public CommandLineException(string message)
        : base(message)
    {
    }
}
