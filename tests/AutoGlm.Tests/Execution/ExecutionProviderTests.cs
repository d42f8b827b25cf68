using AutoGlm.Execution;
using AutoGlm.Runtime;

namespace AutoGlm.Tests.Execution;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void Resolve_Cpu_SelectsCpuWithoutRejections()
    {
        ExecutionProviderSelection selection = OnnxRuntimeInfo.Resolve(ExecutionProvider.Cpu);

        Assert.Same(ExecutionProvider.Cpu, selection.Selected);
        Assert.Empty(selection.Rejections);
    }

    [Fact]
    public void Resolve_CudaWithTheCpuPackage_ThrowsNamingThePackageSwap()
    {
        // The tests run on the CPU build of ONNX Runtime, as a user of the AutoGlm package does.
        var ex = Assert.Throws<ExecutionProviderUnavailableException>(() => OnnxRuntimeInfo.Resolve(ExecutionProvider.Cuda(0)));

        Assert.Equal("CUDA", ex.ProviderName);
        Assert.Contains("The CUDA:0 execution provider is not available", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"(version {OrtRuntime.ExpectedVersion}) is the CPU build", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Swap the NuGet package AutoGlm for AutoGlm.Cuda", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cuDNN 9", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Resolve_DirectMLOffWindows_ThrowsSayingItNeedsWindows()
    {
        Skip.If(OperatingSystem.IsWindows(), "DirectML may be available on Windows");

        var ex = Assert.Throws<ExecutionProviderUnavailableException>(() => OnnxRuntimeInfo.Resolve(ExecutionProvider.DirectML(0)));

        Assert.Equal("DirectML", ex.ProviderName);
        Assert.Contains("DirectML runs only on Windows 10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Use ExecutionProvider.Cpu", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Resolve_AutoOnThisMachine_FallsBackToCpuReportingBothRejections()
    {
        Skip.If(OperatingSystem.IsWindows(), "DirectML may be available on Windows");

        ExecutionProviderSelection selection = OnnxRuntimeInfo.Resolve(ExecutionProvider.Auto);

        Assert.Same(ExecutionProvider.Cpu, selection.Selected);
        Assert.Same(ExecutionProvider.Auto, selection.Requested);
        Assert.Equal(["CUDA", "DirectML"], selection.Rejections.Select(r => r.Provider.Name));
        Assert.Contains("Swap the NuGet package AutoGlm for AutoGlm.Cuda", selection.Rejections[0].Reason, StringComparison.Ordinal);
        Assert.Contains("Windows", selection.Rejections[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_AutoWhenCudaWorks_SelectsCudaFirst()
    {
        var tried = new List<string>();
        var selector = new ExecutionProviderSelector(p =>
        {
            tried.Add(p.ToString());
            return null;
        });

        ExecutionProviderSelection selection = selector.Select(ExecutionProvider.Auto);

        Assert.Equal("CUDA", selection.Selected.Name);
        Assert.Equal(["CUDA:0"], tried);
    }

    [Fact]
    public void Select_AutoWhenOnlyDirectMLWorks_RecordsCudaRejection()
    {
        var selector = new ExecutionProviderSelector(p => p is CudaExecutionProvider ? "no driver" : null);

        ExecutionProviderSelection selection = selector.Select(ExecutionProvider.Auto);

        Assert.Equal("DirectML", selection.Selected.Name);
        ExecutionProviderRejection rejection = Assert.Single(selection.Rejections);
        Assert.Equal("no driver", rejection.Reason);
        Assert.Equal("DirectML:0 (requested Auto; rejected: CUDA:0: no driver)", selection.ToString());
    }

    [Fact]
    public void Select_ExplicitProviderRejected_ThrowsWithReason()
    {
        var selector = new ExecutionProviderSelector(_ => "driver too old");

        var ex = Assert.Throws<ExecutionProviderUnavailableException>(() => selector.Select(ExecutionProvider.Cuda(1)));

        Assert.Equal("The CUDA:1 execution provider is not available: driver too old", ex.Message);
    }

    [Theory]
    [InlineData("cpu", "CPU")]
    [InlineData("CUDA", "CUDA:0")]
    [InlineData("cuda:2", "CUDA:2")]
    [InlineData("dml:1", "DirectML:1")]
    [InlineData("DirectML", "DirectML:0")]
    [InlineData(" auto ", "Auto")]
    public void Parse_KnownNames_ReturnsProvider(string text, string expected)
    {
        Assert.Equal(expected, ExecutionProvider.Parse(text).ToString());
    }

    [Theory]
    [InlineData("tpu", "Unknown execution provider 'tpu'. Use one of: cpu, cuda, cuda:<device>, directml, directml:<adapter>, auto.")]
    [InlineData("cuda:x", "Execution provider 'cuda:x' has an invalid device index after ':'; use e.g. 'cuda:0'.")]
    [InlineData("cuda:-1", "Execution provider 'cuda:-1' has an invalid device index after ':'; use e.g. 'cuda:0'.")]
    public void Parse_BadNames_ThrowsListingValidNames(string text, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => ExecutionProvider.Parse(text));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_NegativeDevice_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ExecutionProvider.Cuda(-1));
    }
}
