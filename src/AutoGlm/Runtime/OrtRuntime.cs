using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Runtime;

/// <summary>
/// ONNX Runtime for this process, through its official .NET binding: the native library (found by the package's own
/// resolver, or loaded from an explicit path), and the one <see cref="OrtEnv"/>, whose log goes to an <see cref="ILogger"/>.
/// Created once, on first use; every failure to load becomes an <see cref="OnnxRuntimeLoadException"/> naming the fix.
/// </summary>
/// <remarks>Thread-safe. Lives for the whole process, as ONNX Runtime's environment should.</remarks>
internal sealed class OrtRuntime
{
    /// <summary>The ONNX Runtime version AutoGlm is built and tested against (one version everywhere, DESIGN.md decision 1).</summary>
    public const string ExpectedVersion = "1.31.0";

    private static readonly Lock s_gate = new();
    private static readonly DOrtLoggingFunction s_logCallback = OnLog;
    private static OrtRuntime? s_instance;
    private static OnnxRuntimeLoadException? s_failure;
    private static string? s_configuredPath;
    private static nint s_explicitHandle;
    private static ILogger s_logger = NullLogger.Instance;

    private OrtRuntime(OrtEnv env, string version, string loadedFrom)
    {
        Env = env;
        Version = version;
        LoadedFrom = loadedFrom;
        AvailableProviders = env.GetAvailableProviders();
    }

    /// <summary>The process-wide environment.</summary>
    public OrtEnv Env { get; }

    /// <summary>The native library's version string, e.g. <c>1.31.0</c>.</summary>
    public string Version { get; }

    /// <summary>The full path the native library was loaded from (or the name it was loaded by, where the OS does not tell).</summary>
    public string LoadedFrom { get; }

    /// <summary>Providers compiled into the library (<c>GetAvailableProviders</c>).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>Whether the runtime has been initialised.</summary>
    public static bool IsLoaded => Volatile.Read(ref s_instance) is not null;

    /// <summary>The runtime, initialising it on first use.</summary>
    /// <exception cref="OnnxRuntimeLoadException">The native library is missing, unloadable or of another version.</exception>
    public static OrtRuntime Instance => Volatile.Read(ref s_instance) ?? Load();

    /// <summary>Where ONNX Runtime's own log messages go (warnings and errors).</summary>
    public static ILogger Logger
    {
        get => Volatile.Read(ref s_logger);
        set => Volatile.Write(ref s_logger, value ?? NullLogger.Instance);
    }

    /// <summary>Sets the library path to use (a custom ONNX Runtime build); only before the runtime is initialised.</summary>
    /// <exception cref="InvalidOperationException">The runtime is already initialised from another library.</exception>
    public static void Configure(string? nativeLibraryPath)
    {
        lock (s_gate)
        {
            if (s_instance is not null)
            {
                if (!string.IsNullOrEmpty(nativeLibraryPath) && !string.Equals(Path.GetFullPath(nativeLibraryPath), s_instance.LoadedFrom, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"ONNX Runtime is already loaded from '{s_instance.LoadedFrom}'; NativeLibraryPath '{nativeLibraryPath}' must be set before the first model is loaded.");
                }

                return;
            }

            s_configuredPath = nativeLibraryPath;
        }
    }

    private static OrtRuntime Load()
    {
        lock (s_gate)
        {
            if (s_instance is not null)
            {
                return s_instance;
            }

            // A failed load leaves ONNX Runtime's binding unusable for the process: report the same error every time.
            if (s_failure is not null)
            {
                throw s_failure;
            }

            try
            {
                OrtTelemetry.DisableUnlessConfigured();
                string? loadedFrom = UseExplicitLibrary();
                OrtEnv env;
                if (OrtEnv.IsCreated)
                {
                    // Someone in this process (the application, ONNX Runtime GenAI) created the environment first: share it.
                    env = OrtEnv.Instance();
                }
                else
                {
                    var creation = new EnvironmentCreationOptions
                    {
                        logId = "AutoGlm",
                        logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                        loggingFunction = s_logCallback,
                    };
                    env = OrtEnv.CreateInstanceWithOptions(ref creation);
                }

                string version = env.GetVersionString();
                s_instance = new OrtRuntime(env, version, loadedFrom ?? FindLoadedLibrary() ?? OrtLibraryLocator.LibraryFileNames[0]);
                return s_instance;
            }
            catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or OnnxRuntimeException)
            {
                s_failure = OrtLibraryLocator.NotFound(AppContext.BaseDirectory, ex);
                throw s_failure;
            }
            catch (OnnxRuntimeLoadException ex)
            {
                s_failure = ex;
                throw;
            }
        }
    }

    private static string? UseExplicitLibrary()
    {
        (nint Handle, string LoadedFrom)? loaded = OrtLibraryLocator.ForThisProcess().LoadExplicit(
            s_configuredPath,
            Environment.GetEnvironmentVariable(OrtLibraryLocator.EnvironmentVariable));
        if (loaded is not { } library)
        {
            return null;
        }

        s_explicitHandle = library.Handle;
        OrtEnv.DisableDllImportResolver = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly, ResolveExplicit);
        }
        catch (InvalidOperationException ex)
        {
            throw new OnnxRuntimeLoadException(
                $"ONNX Runtime's library could not be taken from '{library.LoadedFrom}': another resolver is already registered for Microsoft.ML.OnnxRuntime. " +
                "Set NativeLibraryPath (or AUTOGLM_ONNXRUNTIME_PATH) before anything in the process uses ONNX Runtime.",
                [library.LoadedFrom],
                ex);
        }

        return library.LoadedFrom;
    }

    private static nint ResolveExplicit(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase) ? s_explicitHandle : 0;

    private static string? FindLoadedLibrary()
    {
        try
        {
            using Process self = Process.GetCurrentProcess();
            foreach (ProcessModule module in self.Modules)
            {
                string name = module.ModuleName;
                if (name.StartsWith("libonnxruntime.so", StringComparison.Ordinal) || name is "onnxruntime.dll" or "libonnxruntime.dylib")
                {
                    return module.FileName;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            // Not knowing the path only makes messages less precise.
        }

        return null;
    }

    private static void OnLog(nint param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        try
        {
            ILogger logger = Logger;
            LogLevel level = severity switch
            {
                OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE => LogLevel.Trace,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO => LogLevel.Debug,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => LogLevel.Warning,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (logger.IsEnabled(level))
            {
                OrtLog.NativeMessage(logger, level, message, codeLocation);
            }
        }
        catch (Exception)
        {
            // Never let an exception cross back into native code.
        }
    }
}
