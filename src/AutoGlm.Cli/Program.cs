namespace AutoGlm.Cli;

internal static class Program
{
    private static CancellationTokenSource? s_cancelKeyTarget;

    private const string Usage = """
        autoglm — run GLM-family models locally on ONNX Runtime.

        Usage: autoglm <command> [options]

        Commands:
          chat        chat with a model in the terminal (no --model: a small demo model is built first)
          generate    complete a prompt: --model DIR --prompt TEXT [--max-new-tokens N] [--greedy] [--ignore-eos] [--json]
          random      write a random-weight checkpoint: --preset tiny|small|glm-edge-1.5b|glm-edge-4b|glm-4-9b --arch glm|glm4|chatglm --seed N --out DIR
          build       convert a checkpoint into a model folder: --from CHECKPOINT --out MODEL [--precision fp32|fp16|int4]
          tokenize    text to token ids, or ids to text: (--model MODEL | --tokenizer FILE) (--text TEXT | --file FILE) [--json] [--decode]
          doctor      ONNX Runtime version and path, execution providers and why not, CPU features
          bench       concurrency sweep of greedy generation (--model MODEL [--concurrency 1,8] [--prompt-tokens N] [--new-tokens N] [--threads N] [--json])
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
            // An interactive command may take Ctrl+C for itself (chat: stop the answer, keep the session).
            if (Volatile.Read(ref s_cancelKeyTarget) is { IsCancellationRequested: false } target)
            {
                e.Cancel = true;
                target.Cancel();
                return;
            }

            // Otherwise the first Ctrl+C cancels the work in progress; a second one ends the process.
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
                "chat" => await ChatCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "generate" => await GenerateCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "random" => await RandomCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "build" => await BuildCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false),
                "tokenize" => TokenizeCommand.Run(rest),
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

    /// <summary>Sends Ctrl+C to <paramref name="target"/> until the returned scope is disposed.</summary>
    public static IDisposable RedirectCancelKey(CancellationTokenSource target)
    {
        Volatile.Write(ref s_cancelKeyTarget, target);
        return new CancelKeyScope(target);
    }

    private static int UnknownCommand(string command)
    {
        Console.Error.WriteLine($"autoglm: unknown command '{command}'. Run 'autoglm --help' for the list.");
        return 2;
    }

    private sealed class CancelKeyScope(CancellationTokenSource target) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref s_cancelKeyTarget, null, target);
    }
}
