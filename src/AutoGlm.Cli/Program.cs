namespace AutoGlm.Cli;

internal static class Program
{
    private const string Usage = """
        autoglm — run GLM-family models locally on ONNX Runtime.

        Usage: autoglm <command> [options]

        Commands:
          doctor      ONNX Runtime version and path, execution providers and why not, CPU features
          random      write a random-weight GLM checkpoint (--preset tiny|small|glm-edge-1.5b|glm-edge-4b|glm-4-9b --arch glm|glm4|chatglm --seed N --out DIR)
          bench       concurrency sweep of greedy generation (--model MODEL [--concurrency 1,8] [--prompt-tokens N] [--new-tokens N] [--threads N] [--json])
          build       convert a GLM checkpoint into an ONNX model folder (--from CHECKPOINT --out MODEL [--precision fp32|fp16|int4])
        """;

    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl+C cancels the work in progress; a second one ends the process.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        };

        string[] rest = args[1..];
        try
        {
            return args[0] switch
            {
                "doctor" => DoctorCommand.Run(rest),
                "random" => await RandomCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "build" => await BuildCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "bench" => await BenchCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                _ => UnknownCommand(args[0]),
            };
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("autoglm: cancelled");
            return 130;
        }
        catch (AutoGlmException ex)
        {
            Console.Error.WriteLine($"autoglm: {ex.Message}");
            return 1;
        }
        catch (CommandLineException ex)
        {
            Console.Error.WriteLine($"autoglm {args[0]}: {ex.Message}");
            return 2;
        }
        finally
        {
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static int UnknownCommand(string command)
    {
        Console.Error.WriteLine($"autoglm: unknown command '{command}'. Run 'autoglm --help' for the list.");
        return 2;
    }
}
