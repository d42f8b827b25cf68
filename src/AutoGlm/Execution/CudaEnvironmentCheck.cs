using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoGlm.Execution;

/// <summary>
/// The checks behind <c>autoglm doctor</c> for CUDA: the provider library beside ONNX Runtime, the CUDA 13 runtime and
/// cuDNN 9 libraries on the loader path, and the NVIDIA driver against CUDA 13's minimum — each with a one-line fix.
/// (ONNX Runtime 1.31.0's GPU package links its CUDA provider against libcudart.so.13, libcublas(Lt).so.13 and
/// libcurand.so.10 — read from the provider library's ELF header — so CUDA 13.x, not 12.x, is what it needs.)
/// Every observation goes through <see cref="CudaProbe"/>, so the GPU cases are testable on a machine without one.
/// </summary>
internal static partial class CudaEnvironmentCheck
{
    /// <summary>CUDA 13.0's minimum driver (NVIDIA's release notes): 580.65.06 on Linux, 580.88 on Windows.</summary>
    public static Version MinimumDriver(bool windows) => windows ? new Version(580, 88) : new Version(580, 65, 6);

    /// <summary>The libraries ONNX Runtime 1.31's CUDA provider loads (CUDA 13 runtime, cuBLAS, cuBLASLt, cuRAND, cuDNN 9).</summary>
    public static IReadOnlyList<(string Name, string Library, string Package)> RequiredLibraries(bool windows) => windows
        ?
        [
            ("CUDA runtime", "cudart64_13.dll", "the CUDA 13.x toolkit or redistributable"),
            ("cuBLAS", "cublas64_13.dll", "the CUDA 13.x toolkit"),
            ("cuBLASLt", "cublasLt64_13.dll", "the CUDA 13.x toolkit"),
            ("cuRAND", "curand64_10.dll", "the CUDA 13.x toolkit"),
            ("cuDNN", "cudnn64_9.dll", "cuDNN 9 for CUDA 13"),
        ]
        :
        [
            ("CUDA runtime", "libcudart.so.13", "CUDA 13.x (NVIDIA's apt package cuda-cudart-13-x)"),
            ("cuBLAS", "libcublas.so.13", "CUDA 13.x (libcublas-13-x)"),
            ("cuBLASLt", "libcublasLt.so.13", "CUDA 13.x (libcublas-13-x)"),
            ("cuRAND", "libcurand.so.10", "CUDA 13.x (libcurand-13-x)"),
            ("cuDNN", "libcudnn.so.9", "cuDNN 9 for CUDA 13 (libcudnn9-cuda-13)"),
        ];

    /// <summary>Runs every check.</summary>
    /// <param name="probe">Where observations come from.</param>
    /// <param name="onnxRuntimeFolder">The folder ONNX Runtime's library was loaded from.</param>
    /// <param name="availableProviders">ONNX Runtime's <c>GetAvailableProviders</c>.</param>
    public static IReadOnlyList<CudaCheckResult> Run(CudaProbe probe, string onnxRuntimeFolder, IReadOnlyList<string> availableProviders)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var results = new List<CudaCheckResult>();
        bool cudaBuild = availableProviders.Contains(ExecutionProviderAvailability.CudaProviderName);
        results.Add(cudaBuild
            ? new CudaCheckResult("ONNX Runtime build", true, "CUDA build (CUDAExecutionProvider compiled in)", null)
            : new CudaCheckResult("ONNX Runtime build", false, "CPU build: CUDAExecutionProvider is not compiled in", "swap the NuGet package AutoGlm for AutoGlm.Cuda"));

        string providerLibrary = probe.IsWindows ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        string providerPath = Path.Combine(onnxRuntimeFolder, providerLibrary);
        if (cudaBuild)
        {
            results.Add(probe.FileExists(providerPath)
                ? new CudaCheckResult("CUDA provider library", true, providerPath, null)
                : new CudaCheckResult("CUDA provider library", false, $"{providerLibrary} is not in '{onnxRuntimeFolder}'", "restore the AutoGlm.Cuda package again (Microsoft.ML.OnnxRuntime.Gpu ships it) and publish for linux-x64 or win-x64"));
        }

        foreach ((string name, string library, string package) in RequiredLibraries(probe.IsWindows))
        {
            results.Add(probe.CanLoadLibrary(library)
                ? new CudaCheckResult(name, true, $"{library} loads", null)
                : new CudaCheckResult(name, false, $"{library} was not found on the loader path", $"install {package} and put its lib folder on {(probe.IsWindows ? "PATH" : "LD_LIBRARY_PATH")}"));
        }

        results.Add(CheckDriver(probe));
        return results;
    }

    /// <summary>The driver version from <c>/proc/driver/nvidia/version</c>'s text, e.g. "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  …".</summary>
    public static Version? ParseProcDriverVersion(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        Match match = ProcVersion().Match(text);
        return match.Success ? ParseVersion(match.Groups[1].Value) : null;
    }

    /// <summary>A driver version as <c>nvidia-smi --query-gpu=driver_version --format=csv,noheader</c> prints it (first GPU).</summary>
    public static Version? ParseVersion(string? text)
    {
        string? first = text?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return first is not null && Version.TryParse(first, out Version? version) ? version : null;
    }

    private static CudaCheckResult CheckDriver(CudaProbe probe)
    {
        Version minimum = MinimumDriver(probe.IsWindows);
        Version? driver = probe.IsWindows ? null : ParseProcDriverVersion(probe.ReadFile("/proc/driver/nvidia/version"));
        string source = "/proc/driver/nvidia/version";
        if (driver is null)
        {
            driver = ParseVersion(probe.NvidiaSmiDriverVersion());
            source = "nvidia-smi";
        }

        if (driver is null)
        {
            return new CudaCheckResult("NVIDIA driver", false, "no NVIDIA driver found (neither /proc/driver/nvidia/version nor nvidia-smi)", $"install the NVIDIA driver {minimum} or newer for CUDA 13.x (or run on a machine with an NVIDIA GPU)");
        }

        return driver >= minimum
            ? new CudaCheckResult("NVIDIA driver", true, string.Create(CultureInfo.InvariantCulture, $"{driver} (from {source}; CUDA 13.x needs {minimum} or newer)"), null)
            : new CudaCheckResult("NVIDIA driver", false, string.Create(CultureInfo.InvariantCulture, $"{driver} (from {source}) is older than {minimum}, the minimum for CUDA 13.x"), $"update the NVIDIA driver to {minimum} or newer");
    }

    [GeneratedRegex(@"Kernel Module\s+(?:for\s+\S+\s+)?(\d+\.\d+(?:\.\d+)?)", RegexOptions.CultureInvariant)]
    private static partial Regex ProcVersion();
}

/// <summary>One CUDA environment check: what was looked at, whether it passed, what was seen, and the fix when it failed.</summary>
internal sealed record CudaCheckResult(string Name, bool Ok, string Detail, string? Fix);

/// <summary>Where the CUDA checks get their observations: the real machine by default, fakes in tests.</summary>
internal sealed class CudaProbe
{
    public bool IsWindows { get; init; } = OperatingSystem.IsWindows();

    public Func<string, bool> FileExists { get; init; } = File.Exists;

    public Func<string, string?> ReadFile { get; init; } = ReadIfPresent;

    public Func<string, bool> CanLoadLibrary { get; init; } = TryLoad;

    public Func<string?> NvidiaSmiDriverVersion { get; init; } = RunNvidiaSmi;

    private static string? ReadIfPresent(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool TryLoad(string library)
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out nint handle))
        {
            return false;
        }

        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    }

    private static string? RunNvidiaSmi()
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("nvidia-smi", "--query-gpu=driver_version --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using System.Diagnostics.Process? process = System.Diagnostics.Process.Start(start);
            if (process is null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(5000))
            {
                process.Kill();
                return null;
            }

            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }
}
