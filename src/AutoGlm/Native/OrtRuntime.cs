using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AutoGlm.Native;

/// <summary>
/// The loaded ONNX Runtime: the native library, its API table and the process-wide <c>OrtEnv</c>
/// (whose log messages go to an <see cref="ILogger"/>). Created once, on first use.
/// </summary>
/// <remarks>Thread-safe. Lives for the whole process, as ONNX Runtime's environment should.</remarks>
internal sealed unsafe partial class OrtRuntime
{
    private const string LibraryName = "onnxruntime";
    private const int ArenaAllocator = 1;
    private const int MemTypeDefault = 0;

    private static readonly Lock s_gate = new();
    private static OrtRuntime? s_instance;
    private static string? s_configuredPath;
    private static nint s_libraryHandle;
    private static ILogger s_logger = NullLogger.Instance;

    private static bool s_resolverSet;

    private OrtRuntime(OrtApi api, string version, string loadedFrom, OrtEnvHandle env, OrtMemoryInfoHandle cpuMemoryInfo)
    {
        Api = api;
        Version = version;
        LoadedFrom = loadedFrom;
        Env = env;
        CpuMemoryInfo = cpuMemoryInfo;
    }

    /// <summary>Describes host memory, for tensors over caller buffers.</summary>
    public OrtMemoryInfoHandle CpuMemoryInfo { get; }

    /// <summary>The API table.</summary>
    public OrtApi Api { get; }

    /// <summary>The library's version string, e.g. <c>1.30.0</c>.</summary>
    public string Version { get; }

    /// <summary>The path (or search name) the library was loaded from.</summary>
    public string LoadedFrom { get; }

    /// <summary>The process-wide environment.</summary>
    public OrtEnvHandle Env { get; }

    /// <summary>Whether the library has been loaded.</summary>
    public static bool IsLoaded => Volatile.Read(ref s_instance) is not null;

    /// <summary>The loaded runtime, loading it on first use.</summary>
    /// <exception cref="OnnxRuntimeLoadException">The library is missing, unloadable or too old.</exception>
    public static OrtRuntime Instance => Volatile.Read(ref s_instance) ?? Load();

    /// <summary>Sets the library path to use; only before the library is loaded.</summary>
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

    /// <summary>Where ONNX Runtime's own log messages go (warnings and errors by default).</summary>
    public static ILogger Logger
    {
        get => Volatile.Read(ref s_logger);
        set => Volatile.Write(ref s_logger, value ?? NullLogger.Instance);
    }

    /// <summary>The API version to ask for, given the library's version string, or an exception when it is too old.</summary>
    public static uint SelectApiVersion(string versionString, string loadedFrom)
    {
        string[] parts = versionString.Split('.');
        if (parts.Length < 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor))
        {
            throw new OnnxRuntimeLoadException(
                $"The ONNX Runtime library at '{loadedFrom}' reports an unreadable version '{versionString}'. Use ONNX Runtime 1.{OrtApi.MinimumApiVersion} or newer (1.30.0 recommended).",
                [loadedFrom]);
        }

        // For ONNX Runtime 1.x the C API version equals the minor version.
        if (major < 1 || (major == 1 && minor < OrtApi.MinimumApiVersion))
        {
            throw new OnnxRuntimeLoadException(
                $"The ONNX Runtime library at '{loadedFrom}' is version {versionString}, but AutoGlm needs 1.{OrtApi.MinimumApiVersion} or newer " +
                $"(C API version {OrtApi.MinimumApiVersion}). Install ONNX Runtime 1.30.0 (NuGet Microsoft.ML.OnnxRuntime, or npm onnxruntime-node) and point AUTOGLM_ONNXRUNTIME_PATH at it.",
                [loadedFrom]);
        }

        return major > 1 ? OrtApi.TargetApiVersion : (uint)Math.Min(minor, (int)OrtApi.TargetApiVersion);
    }

    private static OrtRuntime Load()
    {
        lock (s_gate)
        {
            if (s_instance is not null)
            {
                return s_instance;
            }

            var locator = OrtLibraryLocator.ForThisProcess();
            (nint handle, string loadedFrom) = locator.Load(
                s_configuredPath,
                Environment.GetEnvironmentVariable(OrtLibraryLocator.EnvironmentVariable),
                AppContext.BaseDirectory);
            s_libraryHandle = handle;
            if (!s_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(OrtRuntime).Assembly, ResolveOnnxRuntime);
                s_resolverSet = true;
            }

            OrtApiBase* apiBase = OrtGetApiBase();
            if (apiBase == null)
            {
                throw new OnnxRuntimeLoadException($"The library at '{loadedFrom}' returned no OrtApiBase; it is not ONNX Runtime or is damaged. Reinstall ONNX Runtime 1.30.0.", [loadedFrom]);
            }

            string version = Marshal.PtrToStringUTF8((nint)apiBase->GetVersionString()) ?? "unknown";
            uint apiVersion = SelectApiVersion(version, loadedFrom);
            void* table = apiBase->GetApi(apiVersion);
            if (table == null)
            {
                throw new OnnxRuntimeLoadException(
                    $"The ONNX Runtime library at '{loadedFrom}' (version {version}) does not offer C API version {apiVersion}. Install ONNX Runtime 1.30.0.",
                    [loadedFrom]);
            }

            var api = OrtApi.FromTable(table, apiVersion);
            OrtEnvHandle env = CreateEnvironment(api);
            nint memoryInfo;
            api.ThrowIfFailed(api.CreateCpuMemoryInfo(ArenaAllocator, MemTypeDefault, &memoryInfo), "describing host memory");
            s_instance = new OrtRuntime(api, version, loadedFrom, env, new OrtMemoryInfoHandle(memoryInfo, api));
            return s_instance;
        }
    }

    private static OrtEnvHandle CreateEnvironment(OrtApi api)
    {
        nint env;
        fixed (byte* logId = "AutoGlm"u8)
        {
            api.ThrowIfFailed(api.CreateEnvWithCustomLogger(&OnLog, 0, (int)OrtLoggingLevel.Warning, logId, &env), "creating the ONNX Runtime environment");
        }

        return new OrtEnvHandle(env, api);
    }

    private static nint ResolveOnnxRuntime(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName == LibraryName ? s_libraryHandle : 0;

    [LibraryImport(LibraryName)]
    private static partial OrtApiBase* OrtGetApiBase();

    [UnmanagedCallersOnly]
    private static void OnLog(nint param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        try
        {
            ILogger logger = Logger;
            LogLevel level = severity switch
            {
                (int)OrtLoggingLevel.Verbose => LogLevel.Trace,
                (int)OrtLoggingLevel.Info => LogLevel.Debug,
                (int)OrtLoggingLevel.Warning => LogLevel.Warning,
                (int)OrtLoggingLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (logger.IsEnabled(level))
            {
                string text = Marshal.PtrToStringUTF8((nint)message) ?? string.Empty;
                string where = Marshal.PtrToStringUTF8((nint)codeLocation) ?? string.Empty;
                OrtLog.NativeMessage(logger, level, text, where);
            }
        }
        catch (Exception)
        {
            // Never let an exception cross back into native code.
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OrtApiBase
    {
        public delegate* unmanaged<uint, void*> GetApi;
        public delegate* unmanaged<byte*> GetVersionString;
    }
}

/// <summary>ONNX Runtime's logging levels (<c>OrtLoggingLevel</c>).</summary>
internal enum OrtLoggingLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}
