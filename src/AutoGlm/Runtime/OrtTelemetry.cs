using System.Runtime.InteropServices;

namespace AutoGlm.Runtime;

/// <summary>
/// Turns ONNX Runtime's own usage telemetry off for this process unless the user chose with <c>ORT_DISABLE_TELEMETRY</c>.
/// </summary>
/// <remarks>
/// ONNX Runtime 1.30 on Linux and macOS starts a telemetry uploader (the 1DS SDK) when its environment is created: it
/// writes <c>/tmp/mat-debug-PID.log</c>, reads <c>/etc/machine-id</c> and <c>/proc/self/cmdline</c>, and runs a
/// recursive <c>std::regex</c> over the command line, one stack frame per character. A command line of about 29 KB
/// (a long <c>--prompt</c>) overflows the stack of the thread loading the model and the process dies with
/// "Fatal error. Internal CLR error. (0x80131506)" (SIGSEGV, then SIGABRT). ONNX Runtime reads the switch with
/// <c>getenv</c> while it initializes, so it must be in the native environment before the first model loads;
/// <see cref="Environment.SetEnvironmentVariable(string, string?)"/> changes only .NET's copy on Unix. Found by the CLI's
/// 30 KB-argument test; the crash threatens every host with a long command line, so <see cref="OrtRuntime"/> applies this
/// before it creates ONNX Runtime's environment (the uploader also made network attempts and left a log file per process).
/// </remarks>
internal static partial class OrtTelemetry
{
    public const string Switch = "ORT_DISABLE_TELEMETRY";

    /// <summary>Sets <c>ORT_DISABLE_TELEMETRY=1</c> unless it is set already; call before anything loads ONNX Runtime.</summary>
    public static void DisableUnlessConfigured()
    {
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable(Switch) is not null)
        {
            // Windows ONNX Runtime reports through ETW and reads no command line; a user's own setting wins.
            return;
        }

        // overwrite: 0 keeps a value set between the check above and here.
        if (SetEnvironmentVariable(Switch, "1", 0) == 0)
        {
            Environment.SetEnvironmentVariable(Switch, "1");
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironmentVariable(string name, string value, int overwrite);
}
