using AutoGlm.Native;

namespace AutoGlm.Tests.Native;

public sealed class OrtLibraryLocatorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-locator-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Load_NothingAnywhere_ThrowsListingEveryPathTriedAndTheFix()
    {
        var locator = new OrtLibraryLocator(_ => 0, _ => 0);

        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => locator.Load(null, null, _folder));

        Assert.Equal(
            OrtLibraryLocator.ApplicationCandidates(_folder).Concat(OrtLibraryLocator.LibraryFileNames.Select(n => n + " (operating system search path)")),
            ex.ProbedPaths);
        Assert.Contains(Path.Combine(_folder, "libonnxruntime.so.1"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_folder, "runtimes", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "native", "libonnxruntime.so"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("AUTOGLM_ONNXRUNTIME_PATH", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConfiguredPathMissing_ThrowsWithoutFallingBack()
    {
        File.WriteAllBytes(Path.Combine(_folder, "libonnxruntime.so.1"), [1]);
        string configured = Path.Combine(_folder, "nope", "libonnxruntime.so");
        var locator = new OrtLibraryLocator(_ => 42, _ => 42);

        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => locator.Load(configured, null, _folder));

        Assert.Equal([configured], ex.ProbedPaths);
        Assert.Contains("configured NativeLibraryPath", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EnvironmentFolder_LoadsTheLibraryInIt()
    {
        string file = Path.Combine(_folder, "libonnxruntime.so.1");
        File.WriteAllBytes(file, [1]);
        var locator = new OrtLibraryLocator(path => path == file ? 7 : 0, _ => 0);

        (nint handle, string loadedFrom) = locator.Load(null, _folder, "/nonexistent");

        Assert.Equal(7, handle);
        Assert.Equal(file, loadedFrom);
    }

    [Fact]
    public void Load_ApplicationFolderFileThatFailsToLoad_IsReportedAsSuch()
    {
        string file = Path.Combine(_folder, "libonnxruntime.so.1");
        File.WriteAllBytes(file, [1]);
        var locator = new OrtLibraryLocator(_ => 0, _ => 0);

        var ex = Assert.Throws<OnnxRuntimeLoadException>(() => locator.Load(null, null, _folder));

        Assert.Contains(file + " (exists but could not be loaded)", ex.ProbedPaths);
    }

    [Fact]
    public void Load_RuntimesFolder_IsFoundAfterTheApplicationFolder()
    {
        string native = Path.Combine(_folder, "runtimes", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "native");
        Directory.CreateDirectory(native);
        string file = Path.Combine(native, "libonnxruntime.so");
        File.WriteAllBytes(file, [1]);
        var locator = new OrtLibraryLocator(path => path == file ? 9 : 0, _ => 0);

        Assert.Equal((9, file), locator.Load(null, null, _folder));
    }

    [Fact]
    public void Load_OnlyOnSearchPath_UsesTheSearchName()
    {
        var locator = new OrtLibraryLocator(_ => 0, name => name == "libonnxruntime.so" ? 5 : 0);

        Assert.Equal((5, "libonnxruntime.so"), locator.Load(null, null, _folder));
    }
}
