using AutoGlm.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Execution;

/// <summary>
/// Decides whether a provider can run here and, when it can, appends it. Reasons name what is missing
/// and how to install it.
/// </summary>
internal static class ExecutionProviderAvailability
{
    /// <summary>ONNX Runtime's registered name for the CUDA provider.</summary>
    public const string CudaProviderName = "CUDAExecutionProvider";

    /// <summary>ONNX Runtime's registered name for the DirectML provider.</summary>
    public const string DirectMLProviderName = "DmlExecutionProvider";

    /// <summary>The CUDA provider library ONNX Runtime loads on this OS.</summary>
    public static string CudaProviderLibrary => OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";

    /// <summary>Appends <paramref name="provider"/> to <paramref name="options"/> and returns null, or returns why it is unavailable.</summary>
    public static string? TryAppend(ExecutionProvider provider, SessionOptions options)
    {
        switch (provider)
        {
            case CpuExecutionProvider:
                return null;
            case CudaExecutionProvider cuda:
                return TryAppendCuda(cuda, options);
            case DirectMLExecutionProvider dml:
                return TryAppendDirectML(dml, options);
            default:
                return $"'{provider}' is not a concrete provider.";
        }
    }

    /// <summary>Why the provider cannot run here without touching any session, or null when it may (CPU always may).</summary>
    public static string? Probe(ExecutionProvider provider)
    {
        _ = OrtRuntime.Instance;
        using var options = new SessionOptions();
        return TryAppend(provider, options);
    }

    private static string? TryAppendCuda(CudaExecutionProvider cuda, SessionOptions options)
    {
        OrtRuntime runtime = OrtRuntime.Instance;
        string ortFolder = Path.GetDirectoryName(Path.GetFullPath(runtime.LoadedFrom)) ?? ".";
        if (!runtime.AvailableProviders.Contains(CudaProviderName))
        {
            return $"the ONNX Runtime library at '{runtime.LoadedFrom}' (version {runtime.Version}) is the CPU build. " +
                   "Swap the NuGet package AutoGlm for AutoGlm.Cuda (it brings ONNX Runtime's CUDA build, Microsoft.ML.OnnxRuntime.Gpu), " +
                   "and install CUDA 13.x and cuDNN 9 on the machine.";
        }

        string providerLibrary = Path.Combine(ortFolder, CudaProviderLibrary);
        if (!File.Exists(providerLibrary))
        {
            return $"{CudaProviderLibrary} is missing (looked in '{ortFolder}', next to the ONNX Runtime library). " +
                   $"Reference the NuGet package AutoGlm.Cuda (ONNX Runtime {runtime.Version}'s GPU build ships it), " +
                   "plus CUDA 13.x and cuDNN 9 with their libraries on the loader path (LD_LIBRARY_PATH or PATH).";
        }

        var providerOptions = new Dictionary<string, string>(cuda.Options, StringComparer.Ordinal)
        {
            ["device_id"] = cuda.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            using var cudaOptions = new OrtCUDAProviderOptions();
            cudaOptions.UpdateOptions(providerOptions);
            options.AppendExecutionProvider_CUDA(cudaOptions);
            return null;
        }
        catch (OnnxRuntimeException ex)
        {
            return $"ONNX Runtime could not start CUDA device {cuda.DeviceId}: {OrtErrors.Read(ex).Message} " +
                   "Check that an NVIDIA driver (580 or newer), CUDA 13.x and cuDNN 9 are installed and that the device exists; run 'autoglm doctor' for each library found or missing.";
        }
    }

    private static string? TryAppendDirectML(DirectMLExecutionProvider dml, SessionOptions options)
    {
        if (!OperatingSystem.IsWindows())
        {
            return $"DirectML runs only on Windows 10 (1903) or later with a DirectX 12 GPU, and this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}. " +
                   "Use ExecutionProvider.Cpu or ExecutionProvider.Cuda here.";
        }

        if (!OrtRuntime.Instance.AvailableProviders.Contains(DirectMLProviderName))
        {
            return $"the ONNX Runtime library at '{OrtRuntime.Instance.LoadedFrom}' was built without DirectML. Reference the NuGet package Microsoft.ML.OnnxRuntime.DirectML instead of Microsoft.ML.OnnxRuntime.";
        }

        try
        {
            // DirectML cannot run with memory patterns or parallel execution.
            options.EnableMemoryPattern = false;
            options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
            options.AppendExecutionProvider_DML(dml.AdapterIndex);
            return null;
        }
        catch (OnnxRuntimeException ex)
        {
            return $"ONNX Runtime could not start DirectML on adapter {dml.AdapterIndex}: {OrtErrors.Read(ex).Message} Check that the adapter exists and supports DirectX 12.";
        }
    }
}
