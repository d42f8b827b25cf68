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
            Linux("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Thu Sep 25 01:15:15 UTC 2025\nGCC version:  gcc 12"), "/app/runtimes/linux-x64/native", s_cudaBuild);

        Assert.All(results, r => Assert.True(r.Ok, $"{r.Name}: {r.Detail}"));
        Assert.Equal(["ONNX Runtime build", "CUDA provider library", "CUDA runtime", "cuBLAS", "cuBLASLt", "cuRAND", "cuDNN", "NVIDIA driver"], results.Select(r => r.Name));
        Assert.Equal("580.95.5 (from /proc/driver/nvidia/version; CUDA 13.x needs 580.65.6 or newer)", results[^1].Detail);
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
        CudaCheckResult cudnn = CudaEnvironmentCheck.Run(Linux("Kernel Module  580.95.05", lib => lib != "libcudnn.so.9"), "/app", s_cudaBuild).Single(r => r.Name == "cuDNN");

        Assert.False(cudnn.Ok);
        Assert.Equal("libcudnn.so.9 was not found on the loader path", cudnn.Detail);
        Assert.Equal("install cuDNN 9 for CUDA 13 (libcudnn9-cuda-13) and put its lib folder on LD_LIBRARY_PATH", cudnn.Fix);
    }

    [Fact]
    public void Run_MissingProviderLibrary_SaysHowToRestoreIt()
    {
        CudaCheckResult provider = CudaEnvironmentCheck.Run(Linux("Kernel Module  580.95.05", providerLibrary: false), "/app/native", s_cudaBuild)[1];

        Assert.False(provider.Ok);
        Assert.Equal("libonnxruntime_providers_cuda.so is not in '/app/native'", provider.Detail);
        Assert.Contains("AutoGlm.Cuda", provider.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DriverOlderThanCuda12Minimum_FailsWithTheUpdate()
    {
        CudaCheckResult driver = CudaEnvironmentCheck.Run(Linux("NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.172.08  Wed Nov 17"), "/app", s_cudaBuild)[^1];

        Assert.False(driver.Ok);
        Assert.Equal("570.172.8 (from /proc/driver/nvidia/version) is older than 580.65.6, the minimum for CUDA 13.x", driver.Detail);
        Assert.Equal("update the NVIDIA driver to 580.65.6 or newer", driver.Fix);
    }

    [Fact]
    public void Run_NoProcFileButNvidiaSmi_UsesNvidiaSmi()
    {
        CudaCheckResult driver = CudaEnvironmentCheck.Run(Linux(null, smi: "581.15.01\n581.15.01\n"), "/app", s_cudaBuild)[^1];

        Assert.True(driver.Ok);
        Assert.StartsWith("581.15.1 (from nvidia-smi;", driver.Detail, StringComparison.Ordinal);
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
            CanLoadLibrary = lib => lib != "cudart64_13.dll",
            NvidiaSmiDriverVersion = () => "576.02",
        };

        IReadOnlyList<CudaCheckResult> results = CudaEnvironmentCheck.Run(probe, @"C:\app", s_cudaBuild);

        Assert.Equal("cudart64_13.dll was not found on the loader path", results.Single(r => r.Name == "CUDA runtime").Detail);
        Assert.Equal("update the NVIDIA driver to 580.88 or newer", results[^1].Fix);
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
