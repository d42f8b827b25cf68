using System.Runtime.InteropServices;

namespace AutoGlm.Runtime;

/// <summary>
/// Where the ONNX Runtime native library comes from (DESIGN.md decision 2). By default the official NuGet package puts
/// it in the application folder or <c>runtimes/&lt;rid&gt;/native</c> and ONNX Runtime's own resolver loads it; an explicit
/// path (the <c>NativeLibraryPath</c> option, then <c>AUTOGLM_ONNXRUNTIME_PATH</c>) overrides that for custom builds.
/// Pure apart from the load delegate, so the order and the errors are testable.
/// </summary>
internal sealed class OrtLibraryLocator
{
    /// <summary>The environment variable that names the library file (or the folder holding it).</summary>
    public const string EnvironmentVariable = "AUTOGLM_ONNXRUNTIME_PATH";

    /// <summary>The runtime identifiers the <c>AutoGlm</c> package brings a native library for.</summary>
    public static IReadOnlyList<string> PackagedRuntimeIdentifiers { get; } = ["win-x64", "win-arm64", "linux-x64", "linux-arm64", "osx-arm64"];

    private readonly Func<string, nint> _tryLoadPath;

    public OrtLibraryLocator(Func<string, nint> tryLoadPath)
    {
        _tryLoadPath = tryLoadPath;
    }

    /// <summary>The file names ONNX Runtime's library has on this operating system, preferred first.</summary>
    public static IReadOnlyList<string> LibraryFileNames { get; } =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so", "libonnxruntime.so.1"];

    /// <summary>Creates a locator that loads with <see cref="NativeLibrary"/>.</summary>
    public static OrtLibraryLocator ForThisProcess() => new(path => NativeLibrary.TryLoad(path, out nint handle) ? handle : 0);

    /// <summary>This process's portable runtime identifier, e.g. <c>linux-x64</c>.</summary>
    public static string PortableRuntimeIdentifier
    {
        get
        {
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            string arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                Architecture.X86 => "x86",
                Architecture.Arm => "arm",
                _ => RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            };
            return os + "-" + arch;
        }
    }

    /// <summary>
    /// Loads the explicitly named library, or returns null when no path is configured (ONNX Runtime's own resolver
    /// then finds the library the NuGet package placed beside the application).
    /// </summary>
    /// <exception cref="OnnxRuntimeLoadException">A path is configured but nothing loadable is there; the message lists every candidate.</exception>
    public (nint Handle, string LoadedFrom)? LoadExplicit(string? configuredPath, string? environmentValue)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            // An explicit setting is a promise: do not silently fall back to another library.
            return LoadFrom(configuredPath, "the configured NativeLibraryPath");
        }

        return string.IsNullOrWhiteSpace(environmentValue) ? null : LoadFrom(environmentValue, $"the environment variable {EnvironmentVariable}");
    }

    /// <summary>The places the NuGet package's library is looked for, in order.</summary>
    public static IEnumerable<string> ApplicationCandidates(string applicationDirectory)
    {
        foreach (string name in LibraryFileNames)
        {
            yield return Path.Combine(applicationDirectory, name);
        }

        foreach (string name in LibraryFileNames)
        {
            yield return Path.Combine(applicationDirectory, "runtimes", PortableRuntimeIdentifier, "native", name);
        }
    }

    /// <summary>The error for a process where ONNX Runtime's own resolver found no usable library.</summary>
    public static OnnxRuntimeLoadException NotFound(string applicationDirectory, Exception cause)
    {
        List<string> tried = ApplicationCandidates(applicationDirectory)
            .Select(c => File.Exists(c) ? c + " (exists but could not be loaded: wrong architecture, or a dependency is missing)" : c)
            .ToList();
        string rid = PortableRuntimeIdentifier;
        string fix = PackagedRuntimeIdentifiers.Contains(rid)
            ? "Fix: reference the NuGet package AutoGlm (CPU) or AutoGlm.Cuda (NVIDIA GPUs); either brings ONNX Runtime's native library for " +
              $"{rid}. If you publish for one runtime, publish with -r {rid}."
            : $"Fix: the ONNX Runtime packages bring no native library for {rid} (they cover {string.Join(", ", PackagedRuntimeIdentifiers)}). " +
              $"Build ONNX Runtime {OrtRuntime.ExpectedVersion} for this platform and set AutoGlm's NativeLibraryPath option or the {EnvironmentVariable} environment variable to it.";
        return new OnnxRuntimeLoadException(
            $"The ONNX Runtime native library could not be loaded on {rid} ({cause.GetBaseException().Message}). Paths tried, in order:{Environment.NewLine}" +
            string.Join(Environment.NewLine, tried.Select(t => "  - " + t)) + Environment.NewLine + fix,
            tried.AsReadOnly(),
            cause);
    }

    private (nint Handle, string LoadedFrom) LoadFrom(string path, string source)
    {
        var tried = new List<string>();
        var candidates = new List<string>();
        if (Directory.Exists(path))
        {
            candidates.AddRange(LibraryFileNames.Select(name => Path.Combine(path, name)));
        }
        else
        {
            candidates.Add(path);
        }

        foreach (string candidate in candidates)
        {
            tried.Add(candidate);
            if (!File.Exists(candidate))
            {
                continue;
            }

            nint handle = _tryLoadPath(candidate);
            if (handle != 0)
            {
                return (handle, Path.GetFullPath(candidate));
            }

            tried[^1] = candidate + " (exists but could not be loaded: wrong architecture, or a dependency is missing)";
        }

        string list = string.Join(Environment.NewLine, tried.Select(t => "  - " + t));
        throw new OnnxRuntimeLoadException(
            $"The ONNX Runtime native library named by {source} ('{path}') could not be loaded. Paths tried, in order:{Environment.NewLine}{list}{Environment.NewLine}" +
            $"Fix: point it at {LibraryFileNames[0]} of ONNX Runtime {OrtRuntime.ExpectedVersion} (or its folder), or unset it to use the library the AutoGlm package brings.",
            tried.AsReadOnly());
    }
}
