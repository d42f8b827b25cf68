namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>Folders that pass options validation without holding a loadable model.</summary>
internal static class ModelFolders
{
    /// <summary>A temporary folder with an empty <c>model.onnx</c>: valid for the options, not loadable.</summary>
    public static string CreateEmpty()
    {
        string folder = Directory.CreateTempSubdirectory("autoglm-options-").FullName;
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), []);
        return folder;
    }
}
