using System.Text.RegularExpressions;

namespace AutoGlm.Cli;

/// <summary>Turns whatever a command threw into its documented exit code and a one-line message that names the problem and the fix.</summary>
internal static partial class CliFailure
{
    /// <summary>Maps <paramref name="exception"/> to an exit code and a message (without the <c>autoglm command:</c> prefix).</summary>
    /// <param name="exception">What the command threw.</param>
    /// <param name="cancelledCode">The exit code a cancellation ends with: <see cref="ExitCodes.Cancelled"/> or <see cref="ExitCodes.Terminated"/>.</param>
    /// <param name="cancellationRequested">Whether Ctrl+C or SIGTERM asked the command to stop.</param>
    public static (int ExitCode, string Message) Describe(Exception exception, int cancelledCode, bool cancellationRequested)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        return exception switch
        {
            CommandCancelledException cancelled => (cancelledCode, $"cancelled; {cancelled.Message}"),
            OperationCanceledException when cancellationRequested => (cancelledCode, "cancelled"),
            CommandLineException usage => (ExitCodes.Usage, usage.Message),
            AutoGlmException failure => (ExitCodes.Failed, failure.Message),
            ArgumentException argument => (ExitCodes.Failed, WithoutParameterName(argument)),
            FileNotFoundException or DirectoryNotFoundException => (ExitCodes.Failed, $"{exception.Message} Check the path."),
            UnauthorizedAccessException => (ExitCodes.Failed, $"{exception.Message} Check the permissions of the path."),
            IOException => (ExitCodes.Failed, $"{exception.Message} Check the path, the free disk space and the permissions."),
            OutOfMemoryException => (ExitCodes.Failed, "out of memory. Use a smaller model or a shorter context, or free memory."),
            _ => (ExitCodes.InternalError, $"internal error ({exception.GetType().Name}: {exception.Message}). This is a bug in autoglm: rerun with --verbose and report the stack trace."),
        };
    }

    /// <summary>Folds a multi-line message onto one line.</summary>
    public static string OneLine(string message) => LineBreaks().Replace(message.Trim(), " ");

    /// <summary>The message without the " (Parameter 'name')" and " Actual value was …" parts .NET appends for developers.</summary>
    private static string WithoutParameterName(ArgumentException exception)
    {
        string message = exception.Message;
        if (exception.ParamName is not null)
        {
            message = message.Replace($" (Parameter '{exception.ParamName}')", "", StringComparison.Ordinal);
        }

        if (exception is ArgumentOutOfRangeException { ActualValue: { } actual })
        {
            message = message.Replace($"{Environment.NewLine}Actual value was {actual}.", "", StringComparison.Ordinal)
                .Replace($" Actual value was {actual}.", "", StringComparison.Ordinal);
        }

        return message;
    }

    [GeneratedRegex(@"\s*(\r\n|\r|\n)\s*")]
    private static partial Regex LineBreaks();
}
