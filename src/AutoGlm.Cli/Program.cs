using System.Runtime.InteropServices;

namespace AutoGlm.Cli;

internal static class Program
{
    private static CancellationTokenSource? s_cancelKeyTarget;
    private static int s_signalExitCode = ExitCodes.Cancelled;

    private static async Task<int> Main(string[] args)
    {
        // Before anything loads ONNX Runtime: its telemetry crashes the process on long command lines (see the type).
        AutoGlm.Runtime.OrtTelemetry.DisableUnlessConfigured();

        // A failure on a thread the command does not await (a bug) still ends with one line and a documented code, not SIGABRT.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            Console.Error.WriteLine($"autoglm: internal error ({(e.ExceptionObject as Exception)?.GetType().Name}: {CliFailure.OneLine((e.ExceptionObject as Exception)?.Message ?? "")}). This is a bug in autoglm: report it.");
            Console.Error.Flush();
            Environment.Exit(ExitCodes.InternalError);
        };

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // An interactive command may take Ctrl+C for itself (chat: stop the answer, keep the session).
            if (Volatile.Read(ref s_cancelKeyTarget) is { IsCancellationRequested: false } target)
            {
                e.Cancel = true;
                target.Cancel();
                return;
            }

            // Otherwise the first Ctrl+C cancels the work in progress; a second one ends the process.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        };

        // SIGTERM (docker stop, kill): stop the work as Ctrl+C does, clean up, exit 143.
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Volatile.Write(ref s_signalExitCode, ExitCodes.Terminated);
            cancellation.Cancel();
        });

        try
        {
            return await AutoGlmTool.RunAsync(args, () => Volatile.Read(ref s_signalExitCode), cancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Sends Ctrl+C to <paramref name="target"/> until the returned scope is disposed.</summary>
    public static IDisposable RedirectCancelKey(CancellationTokenSource target)
    {
        Volatile.Write(ref s_cancelKeyTarget, target);
        return new CancelKeyScope(target);
    }

    private sealed class CancelKeyScope(CancellationTokenSource target) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref s_cancelKeyTarget, null, target);
    }
}
