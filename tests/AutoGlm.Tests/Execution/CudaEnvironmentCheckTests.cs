using AutoGlm.Execution;

namespace AutoGlm.Tests.Execution;

/// <summary>The doctor's CUDA checks on fake observations: this machine has no GPU, so each GPU case is simulated.</summary>
public sealed class CudaEnvironmentCheckTests
{
    private static readonly string[] s_cudaBuild = ["CUDAExecutionProvider", "CPUExecutionProvider"];
    private static readonly string[] s_cpuBuild = ["CPUExecutionProvider"];

    private static CudaProbe Linux(string? procVersion, Func<string, bool>? canLoad = null, string? smi = null, bool providerLibrary = true) => new()
    {
        IsWindows = false,
        FileExists = path => providerLibrary && path.EndsWith("libonnxruntime_providers_cuda.so", StringComparison.Ordinal),
        ReadFile = path => path == "/proc/driver/nvidia/version" ? procVersion : null,
        CanLoadLibrary = canLoad ?? (_ => true),
        NvidiaSmiDriverVersion = () => smi,
    };

    [Fact]
    public void Run_HealthyLinuxGpuMachine_PassesEveryCheck()
    {
        IReadOnlyList<CudaCheckResult> results = CudaEnvironmentCheck.Run(
            Linux("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc 12"), "/app/runtimes/linux-x64/native", s_cudaBuild);

        Assert.All(results, r => Assert.True(r.Ok, $"{r.Name}: {r.Detail}"));
        Assert.Equal(["ONNX Runtime build", "CUDA provider library", "CUDA runtime", "cuBLAS", "cuBLASLt", "cuFFT", "cuDNN", "NVIDIA driver"], results.Select(r => r.Name));
        Assert.Equal("535.104.5 (from /proc/driver/nvidia/version; CUDA 12.x needs 525.60.13 or newer)", results[^1].Detail);
    }

    [Fact]
    public void Run_CpuPackage_SaysToSwapPackages()
    {
        CudaCheckResult build = CudaEnvironmentCheck.Run(Linux(null), "/app", s_cpuBuild)[0];

        Assert.False(build.Ok);
        Assert.Equal("swap the NuGet package AutoGlm for AutoGlm.Cuda", build.Fix);
    }

    [Fact]
    public void Run_MissingCudnn_NamesTheLibraryAndTheFix()
    {
        CudaCheckResult cudnn = CudaEnvironmentCheck.Run(Linux("Kernel Module  550.54.14", lib => lib != "libcudnn.so.9"), "/app", s_cudaBuild).Single(r => r.Name == "cuDNN");

        Assert.False(cudnn.Ok);
        Assert.Equal("libcudnn.so.9 was not found on the loader path", cudnn.Detail);
        Assert.Equal("install cuDNN 9 for CUDA 12 (libcudnn9-cuda-12) and put its lib folder on LD_LIBRARY_PATH", cudnn.Fix);
    }

    [Fact]
    public void Run_MissingProviderLibrary_SaysHowToRestoreIt()
    {
        CudaCheckResult provider = CudaEnvironmentCheck.Run(Linux("Kernel Module  550.54.14", providerLibrary: false), "/app/native", s_cudaBuild)[1];

        Assert.False(provider.Ok);
        Assert.Equal("libonnxruntime_providers_cuda.so is not in '/app/native'", provider.Detail);
        Assert.Contains("AutoGlm.Cuda", provider.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DriverOlderThanCuda12Minimum_FailsWithTheUpdate()
    {
        CudaCheckResult driver = CudaEnvironmentCheck.Run(Linux("NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.82.01  Wed Nov 17"), "/app", s_cudaBuild)[^1];

        Assert.False(driver.Ok);
        Assert.Equal("470.82.1 (from /proc/driver/nvidia/version) is older than 525.60.13, the minimum for CUDA 12.x", driver.Detail);
        Assert.Equal("update the NVIDIA driver to 525.60.13 or newer", driver.Fix);
    }

    [Fact]
    public void Run_NoProcFileButNvidiaSmi_UsesNvidiaSmi()
    {
        CudaCheckResult driver = CudaEnvironmentCheck.Run(Linux(null, smi: "560.35.03\n560.35.03\n"), "/app", s_cudaBuild)[^1];

        Assert.True(driver.Ok);
        Assert.StartsWith("560.35.3 (from nvidia-smi;", driver.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NoDriverAtAll_SaysSo()
    {
        CudaCheckResult driver = CudaEnvironmentCheck.Run(Linux(null), "/app", s_cudaBuild)[^1];

        Assert.False(driver.Ok);
        Assert.Contains("no NVIDIA driver found", driver.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Windows_ChecksWindowsLibrariesAndItsDriverMinimum()
    {
        var probe = new CudaProbe
        {
            IsWindows = true,
            FileExists = _ => true,
            ReadFile = _ => throw new InvalidOperationException("no /proc on Windows"),
            CanLoadLibrary = lib => lib != "cudart64_12.dll",
            NvidiaSmiDriverVersion = () => "527.10",
        };

        IReadOnlyList<CudaCheckResult> results = CudaEnvironmentCheck.Run(probe, @"C:\app", s_cudaBuild);

        Assert.Equal("cudart64_12.dll was not found on the loader path", results.Single(r => r.Name == "CUDA runtime").Detail);
        Assert.Equal("update the NVIDIA driver to 527.41 or newer", results[^1].Fix);
    }

    [Theory]
    [InlineData("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build", "550.54.14")]
    [InlineData("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19", "535.104.5")]
    [InlineData("garbage", null)]
    [InlineData("", null)]
    public void ParseProcDriverVersion_ReadsTheKernelModuleVersion(string text, string? expected)
    {
        Assert.Equal(expected, CudaEnvironmentCheck.ParseProcDriverVersion(text)?.ToString());
    }
}
