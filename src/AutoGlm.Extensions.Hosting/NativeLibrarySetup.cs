namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// Points AutoGlm at an explicit ONNX Runtime library (<see cref="AutoGlmOptions.NativeLibraryPath"/>) once per process,
/// however many hosts are configured with it.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal static class NativeLibrarySetup
{
    private static readonly Lock s_gate = new();
    private static string? s_path;

    /// <summary>Sets <paramref name="path"/> as the ONNX Runtime library unless it is empty or already set.</summary>
    public static void Apply(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        lock (s_gate)
        {
            if (string.Equals(s_path, path, StringComparison.Ordinal))
            {
                return;
            }

            AutoGlm.Execution.OnnxRuntimeInfo.SetNativeLibraryPath(path);
            s_path = path;
        }
    }
}
