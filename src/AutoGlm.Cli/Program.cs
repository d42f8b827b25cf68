namespace AutoGlm.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("autoglm: no command yet");
        return args.Length == 0 ? 1 : 1;
    }
}
