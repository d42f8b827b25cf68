using AutoGlm.Execution;
using AutoGlm.Native;

namespace AutoGlm.Tests.Native;

public sealed class OrtRuntimeTests
{
    [Fact]
    public void Instance_LoadsTheLibraryShippedNextToTheTests()
    {
        OrtRuntime runtime = OrtRuntime.Instance;

        Assert.Equal("1.30.0", runtime.Version);
        Assert.Equal(30u, runtime.Api.ApiVersion);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so.1"), runtime.LoadedFrom);
        Assert.Equal(runtime.Version, OnnxRuntimeInfo.Version);
    }

    [Fact]
    public void GetAvailableProviders_IncludesCpu()
    {
        Assert.Contains("CPUExecutionProvider", OnnxRuntimeInfo.GetAvailableProviders());
    }

    [Theory]
    [InlineData("1.30.0", 30u)]
    [InlineData("1.18.1", 18u)]
    [InlineData("1.31.0", 30u)]
    [InlineData("2.0.0", 30u)]
    public void SelectApiVersion_SupportedVersion_ReturnsApiVersion(string version, uint expected)
    {
        Assert.Equal(expected, OrtRuntime.SelectApiVersion(version, "/x/libonnxruntime.so"));
    }

    [Fact]
    public void SelectApiVersion_TooOld_ThrowsNamingVersionPathAndMinimum()
    {
        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => OrtRuntime.SelectApiVersion("1.17.3", "/opt/ort/libonnxruntime.so"));

        Assert.Contains("'/opt/ort/libonnxruntime.so' is version 1.17.3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("needs 1.18 or newer", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SelectApiVersion_Unreadable_Throws()
    {
        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => OrtRuntime.SelectApiVersion("banana", "/x.so"));
        Assert.Contains("unreadable version 'banana'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_DifferentPathAfterLoad_Throws()
    {
        _ = OrtRuntime.Instance;

        var ex = Assert.Throws<InvalidOperationException>(() => OnnxRuntimeInfo.SetNativeLibraryPath("/elsewhere/libonnxruntime.so"));
        Assert.Contains("must be set before the first model is loaded", ex.Message, StringComparison.Ordinal);
    }
}
