namespace AutoGlm.Cli;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        if (args.Length == 0)
        {
            Console.Error.WriteLine("autoglm: no command given. Commands: random, build.");
            return 1;
        }

        string[] rest = args[1..];
        switch (args[0])
        {
            case "random": return await RandomCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false);
            case "build": return await BuildCommand.RunAsync(rest, cancellation.Token).ConfigureAwait(false);
            default:
                Console.Error.WriteLine($"autoglm: unknown command '{args[0]}'. Commands: random, build.");
                return 1;
        }
    }
}
