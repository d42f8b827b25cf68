using AutoGlm.Runtime;

namespace AutoGlm.Execution;

/// <summary>
/// The ONNX Runtime library AutoGlm uses: where to load it from, its version, and the execution providers it offers.
/// </summary>
/// <remarks>Thread-safe. The library is loaded on first use and stays loaded for the process.</remarks>
public static class OnnxRuntimeInfo
{
    /// <summary>The environment variable that names the library file (or its folder).</summary>
    public const string NativeLibraryPathEnvironmentVariable = OrtLibraryLocator.EnvironmentVariable;

    /// <summary>
    /// Sets the path of the ONNX Runtime library (file or folder) to load, ahead of every other location.
    /// Must be called before the first model is loaded.
    /// </summary>
    /// <exception cref="InvalidOperationException">The library is already loaded from another path.</exception>
    public static void SetNativeLibraryPath(string? path) => OrtRuntime.Configure(path);

    /// <summary>Loads the library if needed.</summary>
    /// <exception cref="OnnxRuntimeLoadException">It is missing or unloadable; the message lists every path tried and the fix.</exception>
    public static void EnsureLoaded() => _ = OrtRuntime.Instance;

    /// <summary>The library's version, e.g. <c>1.31.0</c>.</summary>
    /// <exception cref="OnnxRuntimeLoadException">The library cannot be loaded.</exception>
    public static string Version => OrtRuntime.Instance.Version;

    /// <summary>The path (or search name) the library was loaded from.</summary>
    /// <exception cref="OnnxRuntimeLoadException">The library cannot be loaded.</exception>
    public static string LibraryPath => OrtRuntime.Instance.LoadedFrom;

    /// <summary>
    /// The providers compiled into the library (ONNX Runtime's <c>GetAvailableProviders</c>, e.g. <c>CPUExecutionProvider</c>).
    /// A provider listed here may still be unusable when its own libraries or drivers are missing; see <see cref="GetUnavailableReason"/>.
    /// </summary>
    /// <exception cref="OnnxRuntimeLoadException">The library cannot be loaded.</exception>
    public static IReadOnlyList<string> GetAvailableProviders() => OrtRuntime.Instance.AvailableProviders;

    /// <summary>Why <paramref name="provider"/> cannot run on this machine, or null when it can. For <see cref="ExecutionProvider.Auto"/>, null (it always falls back to the CPU).</summary>
    /// <exception cref="OnnxRuntimeLoadException">The library cannot be loaded.</exception>
    public static string? GetUnavailableReason(ExecutionProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return provider is AutoExecutionProvider ? null : ExecutionProviderAvailability.Probe(provider);
    }

    /// <summary>What <see cref="ExecutionProvider.Auto"/> (or any provider) resolves to on this machine, with the rejections.</summary>
    /// <exception cref="ExecutionProviderUnavailableException">An explicitly requested provider cannot be used here.</exception>
    public static ExecutionProviderSelection Resolve(ExecutionProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _ = OrtRuntime.Instance;
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
        return ExecutionProviderSelector.For(options).Select(provider);
    }
}
