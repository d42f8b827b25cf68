using System.Diagnostics;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// Runs one hostile case (<see cref="ChildCases"/>) in a child process of this test assembly, so a regression that
/// overflows the stack, segfaults or hangs fails one test instead of killing the whole run.
/// </summary>
internal static class ChildProcess
{
    /// <summary>The child prints this before the exception's type and message when the case ended with an exception.</summary>
    public const string Marker = "CASE-THREW ";

    /// <summary>The child prints this before the milliseconds the case itself took (process start-up excluded).</summary>
    public const string ElapsedMarker = "CASE-MS ";

    public static (int ExitCode, string Output, TimeSpan Elapsed) Run(string caseName, TimeSpan timeout)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(Path.ChangeExtension(assembly, ".runtimeconfig.json"));
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(Path.ChangeExtension(assembly, ".deps.json"));
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(ChildCases.Argument);
        start.ArgumentList.Add(caseName);
        var watch = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"timed out after {timeout.TotalSeconds} s: {output.Result}{error.Result}", watch.Elapsed);
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result, watch.Elapsed);
    }
}
