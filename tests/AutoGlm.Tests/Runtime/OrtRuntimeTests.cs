using AutoGlm.Execution;
using AutoGlm.Runtime;

namespace AutoGlm.Tests.Runtime;

public sealed class OrtRuntimeTests
{
    [Fact]
    public void Instance_LoadsTheLibraryTheNuGetPackagePlacedBesideTheTests()
    {
        OrtRuntime runtime = OrtRuntime.Instance;

        Assert.Equal(OrtRuntime.ExpectedVersion, runtime.Version);
        Assert.StartsWith(AppContext.BaseDirectory, runtime.LoadedFrom, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("runtimes", OrtLibraryLocator.PortableRuntimeIdentifier, "native"), runtime.LoadedFrom, StringComparison.Ordinal);
        Assert.Equal(runtime.Version, OnnxRuntimeInfo.Version);
        Assert.Equal(runtime.LoadedFrom, OnnxRuntimeInfo.LibraryPath);
    }

    [Fact]
    public void GetAvailableProviders_IsTheCpuBuild()
    {
        Assert.Contains("CPUExecutionProvider", OnnxRuntimeInfo.GetAvailableProviders());
        Assert.DoesNotContain("CUDAExecutionProvider", OnnxRuntimeInfo.GetAvailableProviders());
    }

    [Fact]
    public void Configure_DifferentPathAfterLoad_Throws()
    {
        _ = OrtRuntime.Instance;

        var ex = Assert.Throws<InvalidOperationException>(() => OnnxRuntimeInfo.SetNativeLibraryPath("/elsewhere/libonnxruntime.so"));
        Assert.Contains("must be set before the first model is loaded", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[ErrorCode:InvalidArgument] Got invalid dimensions for input: x", OnnxRuntimeErrorCode.InvalidArgument, "Got invalid dimensions for input: x")]
    [InlineData("[ErrorCode:RuntimeException] Exiting due to terminate flag being set to true.", OnnxRuntimeErrorCode.RuntimeException, "Exiting due to terminate flag being set to true.")]
    [InlineData("[ErrorCode:NoSuchFile] Load model from /x failed", OnnxRuntimeErrorCode.NoSuchFile, "Load model from /x failed")]
    [InlineData("plain text", OnnxRuntimeErrorCode.Fail, "plain text")]
    public void OrtErrors_Read_KeepsOnnxRuntimesCode(string text, OnnxRuntimeErrorCode code, string message)
    {
        Assert.Equal((code, message), OrtErrors.Read(text));
    }
}
