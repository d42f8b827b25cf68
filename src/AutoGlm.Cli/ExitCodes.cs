namespace AutoGlm.Cli;

/// <summary>The exit codes <c>autoglm</c> documents (README, "Exit codes"); nothing else is ever returned.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>The work failed: a model, checkpoint, tokenizer or file could not be used, the input does not fit the model, or (doctor) no execution provider is usable.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: unknown command or option, missing or bad value. Nothing was run.</summary>
    public const int Usage = 2;

    /// <summary>An error autoglm did not expect (a bug): the message names the exception; <c>--verbose</c> prints the stack trace.</summary>
    public const int InternalError = 70;

    /// <summary>Stopped by Ctrl+C (SIGINT); partial outputs are deleted.</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM; partial outputs are deleted.</summary>
    public const int Terminated = 143;
}
