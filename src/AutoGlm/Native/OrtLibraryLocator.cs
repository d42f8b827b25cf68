using System.Runtime.InteropServices;

namespace AutoGlm.Native;

/// <summary>
/// Finds and loads the ONNX Runtime native library in the order of DESIGN.md decision 2:
/// the configured path → <c>AUTOGLM_ONNXRUNTIME_PATH</c> → the application folder and <c>runtimes/&lt;rid&gt;/native</c>
/// → the operating system's search path. Pure apart from the load delegate, so the order and the error are testable.
/// </summary>
internal sealed class OrtLibraryLocator
{
    /// <summary>The environment variable that names the library file (or the folder holding it).</summary>
    public const string EnvironmentVariable = "AUTOGLM_ONNXRUNTIME_PATH";

    private readonly Func<string, nint> _tryLoadPath;
    private readonly Func<string, nint> _tryLoadName;

    public OrtLibraryLocator(Func<string, nint> tryLoadPath, Func<string, nint> tryLoadName)
    {
        _tryLoadPath = tryLoadPath;
        _tryLoadName = tryLoadName;
    }

    /// <summary>The file names ONNX Runtime's library has on this operating system, preferred first.</summary>
    public static IReadOnlyList<string> LibraryFileNames { get; } =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    /// <summary>Creates a locator that loads with <see cref="NativeLibrary"/>.</summary>
    public static OrtLibraryLocator ForThisProcess() => new(
        path => NativeLibrary.TryLoad(path, out nint handle) ? handle : 0,
        name => NativeLibrary.TryLoad(name, typeof(OrtLibraryLocator).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.ApplicationDirectory, out nint handle) ? handle : 0);

    /// <summary>Loads the library, returning its handle and the path or name it was loaded by.</summary>
    /// <exception cref="OnnxRuntimeLoadException">Nothing was found or loadable; the message lists every candidate.</exception>
    public (nint Handle, string LoadedFrom) Load(string? configuredPath, string? environmentValue, string applicationDirectory)
    {
        var tried = new List<string>();

        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            // An explicit setting is a promise: do not silently fall back to another library.
            return LoadExplicit(configuredPath, "the configured NativeLibraryPath", tried);
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            return LoadExplicit(environmentValue, $"the environment variable {EnvironmentVariable}", tried);
        }

        foreach (string candidate in ApplicationCandidates(applicationDirectory))
        {
            tried.Add(candidate);
            if (File.Exists(candidate))
            {
                nint handle = _tryLoadPath(candidate);
                if (handle != 0)
                {
                    return (handle, candidate);
                }

                tried[^1] = candidate + " (exists but could not be loaded)";
            }
        }

        foreach (string name in LibraryFileNames)
        {
            tried.Add(name + " (operating system search path)");
            nint handle = _tryLoadName(name);
            if (handle != 0)
            {
                return (handle, name);
            }
        }

        throw NotFound(tried, "No ONNX Runtime native library was found.");
    }

    /// <summary>The application-folder candidates, in order.</summary>
    public static IEnumerable<string> ApplicationCandidates(string applicationDirectory)
    {
        foreach (string name in LibraryFileNames)
        {
            yield return Path.Combine(applicationDirectory, name);
        }

        foreach (string name in LibraryFileNames)
        {
            yield return Path.Combine(applicationDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", name);
        }

        string portableRid = PortableRuntimeIdentifier();
        if (portableRid != RuntimeInformation.RuntimeIdentifier)
        {
            foreach (string name in LibraryFileNames)
            {
                yield return Path.Combine(applicationDirectory, "runtimes", portableRid, "native", name);
            }
        }
    }

    private (nint Handle, string LoadedFrom) LoadExplicit(string path, string source, List<string> tried)
    {
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
                return (handle, candidate);
            }

            tried[^1] = candidate + " (exists but could not be loaded: wrong architecture, or a dependency is missing)";
        }

        throw NotFound(tried, $"The ONNX Runtime native library named by {source} ('{path}') could not be loaded.");
    }

    private static OnnxRuntimeLoadException NotFound(List<string> tried, string headline)
    {
        string list = string.Join(Environment.NewLine, tried.Select(t => "  - " + t));
        string message =
            $"{headline} Paths tried, in order:{Environment.NewLine}{list}{Environment.NewLine}" +
            $"Fix: reference the Microsoft.ML.OnnxRuntime NuGet package (it places the library in runtimes/<rid>/native), " +
            $"or set AutoGlm's NativeLibraryPath option or the {EnvironmentVariable} environment variable to the path of " +
            $"{LibraryFileNames[0]} (ONNX Runtime 1.{OrtApi.MinimumApiVersion} or newer; this repository's build fetches 1.30.0 from the npm package onnxruntime-node).";
        return new OnnxRuntimeLoadException(message, tried.AsReadOnly());
    }

    private static string PortableRuntimeIdentifier()
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
