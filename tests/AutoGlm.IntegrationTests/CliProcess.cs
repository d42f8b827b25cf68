using System.Diagnostics;

namespace AutoGlm.IntegrationTests;

/// <summary>Runs the built <c>autoglm</c> (AutoGlm.Cli.dll) as a child process, bounded in time.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Errors, TimeSpan Elapsed)
    {
        /// <summary>stderr without its trailing line break; one line when the CLI kept its promise.</summary>
        public string ErrorLine => Errors.TrimEnd('\r', '\n');
    }

    public static async Task<Result> RunAsync(IEnumerable<string> arguments, string input = "", TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AutoGlm.Cli.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"autoglm {string.Join(' ', arguments.Select(a => a.Length > 40 ? a[..40] + "…" : a))} did not exit within {timeout ?? TimeSpan.FromSeconds(120)}.");
        }

        return new Result(process.ExitCode, await output, await errors, clock.Elapsed);
    }
}
