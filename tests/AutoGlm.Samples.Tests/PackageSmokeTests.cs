using System.Text.RegularExpressions;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// Runs <c>build/pack-smoke.sh</c>: a fresh console app gets only <c>dotnet add package AutoGlm</c> and the README's
/// "Use from code" snippet verbatim, and streams text from a tiny model — no environment variable, MSBuild property or npm.
/// Skips (with the reason) where dotnet, bash or the package sources are missing.
/// </summary>
public sealed partial class PackageSmokeTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(8); // three restores and builds; a busy 2-core machine needed over 5 minutes

    [SkippableFact]
    [Trait("Category", "Packaging")]
    public async Task PackSmoke_FreshConsoleApp_GeneratesTextFromThePackages()
    {
        Skip.If(OperatingSystem.IsWindows(), "build/pack-smoke.sh is a bash script.");
        Skip.IfNot(ExternalProcess.IsOnPath("dotnet") && ExternalProcess.IsOnPath("bash"), "dotnet and bash must be on the PATH to pack and build a consumer app.");
        string? root = FindRepositoryRoot();
        Skip.If(root is null, "the repository (AutoGlm.sln) is not above the test output folder.");
        bool built = File.Exists(Path.Combine(root!, "src/AutoGlm/bin/Release/net10.0/AutoGlm.dll"))
            && File.Exists(Path.Combine(root!, "src/AutoGlm.ModelBuilder/bin/Release/net10.0/AutoGlm.ModelBuilder.dll"));
        string work = Directory.CreateTempSubdirectory("autoglm-pack-smoke-").FullName;
        try
        {
            List<string> arguments = [Path.Combine(root!, "build/pack-smoke.sh")];
            if (built)
            {
                arguments.Add("--no-build");
            }

            arguments.Add(work);
            ExternalProcess.Result run = await ExternalProcess.RunAsync("bash", arguments, s_limit, work, CleanEnvironment());

            string log = run.Output + run.Error;
            Skip.If(run.ExitCode != 0 && (log.Contains("NU1301", StringComparison.Ordinal) || log.Contains("NU1101", StringComparison.Ordinal)),
                $"a package could not be restored (is the NuGet source reachable?): {FirstLine(log, "NU1")}");
            Assert.True(run.ExitCode == 0, $"pack-smoke.sh exited with {run.ExitCode}:\n{run.Output}\n{run.Error}");
            string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("pack-smoke: ok", lines[^1]);
            Assert.Matches(GeneratedLine(), lines[^2]);
            Assert.DoesNotContain("AUTOGLM_ONNXRUNTIME_PATH", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // The snippet samples (not greedy) from random weights, so the text may start with a space or a newline
    // (flattened to a space by the script); what matters is that it printed something visible.
    [GeneratedRegex(@"^generated: .*\S")]
    private static partial Regex GeneratedLine();

    private static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AutoGlm.sln")) && File.Exists(Path.Combine(folder.FullName, "build/pack-smoke.sh")))
            {
                return folder.FullName;
            }
        }

        return null;
    }

    /// <summary>The test host's MSBuild variables would point the nested builds at the wrong SDK parts; drop them.</summary>
    private static Dictionary<string, string?> CleanEnvironment()
    {
        var environment = new Dictionary<string, string?>();
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                environment[name] = null;
            }
        }

        return environment;
    }

    private static string FirstLine(string text, string containing) =>
        text.Split('\n').FirstOrDefault(l => l.Contains(containing, StringComparison.Ordinal))?.Trim() ?? string.Empty;
}
