using AutoGlm.Runtime;

namespace AutoGlm.Tests.Runtime;

public sealed class OrtLibraryLocatorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-locator-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void LoadExplicit_NothingConfigured_LeavesLoadingToThePackage()
    {
        var locator = new OrtLibraryLocator(_ => throw new InvalidOperationException("must not load"));

        Assert.Null(locator.LoadExplicit(null, null));
        Assert.Null(locator.LoadExplicit("  ", ""));
    }

    [Fact]
    public void LoadExplicit_ConfiguredPathMissing_ThrowsWithoutFallingBack()
    {
        string configured = Path.Combine(_folder, "nope", "libonnxruntime.so");
        var locator = new OrtLibraryLocator(_ => 42);

        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => locator.LoadExplicit(configured, _folder));

        Assert.Equal([configured], ex.ProbedPaths);
        Assert.Contains("configured NativeLibraryPath", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unset it to use the library the AutoGlm package brings", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadExplicit_EnvironmentFolder_LoadsTheLibraryInIt()
    {
        string file = Path.Combine(_folder, OrtLibraryLocator.LibraryFileNames[0]);
        File.WriteAllBytes(file, [1]);
        var locator = new OrtLibraryLocator(path => path == file ? 7 : 0);

        Assert.Equal((7, file), locator.LoadExplicit(null, _folder));
    }

    [Fact]
    public void LoadExplicit_FileThatFailsToLoad_IsReportedAsSuch()
    {
        string file = Path.Combine(_folder, "libonnxruntime.so");
        File.WriteAllBytes(file, [1]);
        var locator = new OrtLibraryLocator(_ => 0);

        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => locator.LoadExplicit(null, file));

        Assert.Equal([file + " (exists but could not be loaded: wrong architecture, or a dependency is missing)"], ex.ProbedPaths);
        Assert.Contains("the environment variable AUTOGLM_ONNXRUNTIME_PATH", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotFound_ListsThePackagePlacesTheRuntimeAndTheFix()
    {
        OnnxRuntimeLoadException ex = OrtLibraryLocator.NotFound(_folder, new DllNotFoundException("libonnxruntime.so: cannot open shared object file"));

        Assert.Equal(OrtLibraryLocator.ApplicationCandidates(_folder), ex.ProbedPaths);
        Assert.Contains(Path.Combine(_folder, "runtimes", OrtLibraryLocator.PortableRuntimeIdentifier, "native", OrtLibraryLocator.LibraryFileNames[0]), ex.Message, StringComparison.Ordinal);
        Assert.Contains("cannot open shared object file", ex.Message, StringComparison.Ordinal);
        Assert.Contains("reference the NuGet package AutoGlm (CPU) or AutoGlm.Cuda", ex.Message, StringComparison.Ordinal);
    }
}
