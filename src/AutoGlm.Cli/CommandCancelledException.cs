namespace AutoGlm.Cli;

/// <summary>A command stopped on Ctrl+C or SIGTERM; the message says what it cleaned up.</summary>
internal sealed class CommandCancelledException : OperationCanceledException
{
    public CommandCancelledException(string message)
        : base(message)
    {
    }
}
