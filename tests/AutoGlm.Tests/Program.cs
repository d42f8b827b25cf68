namespace AutoGlm.Tests;

/// <summary>
/// The test assembly's entry point: the test host ignores it; <see cref="Untrusted.ChildProcess"/> starts the assembly with
/// <c>--autoglm-child-case NAME</c> to run a case that could take a process down in a process of its own.
/// </summary>
internal static class Program
{
    public static int Main(string[] args) =>
        args.Length == 2 && args[0] == Untrusted.ChildCases.Argument ? Untrusted.ChildCases.RunCase(args) : 0;
}
