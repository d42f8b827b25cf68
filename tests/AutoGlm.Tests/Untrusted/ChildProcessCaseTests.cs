namespace AutoGlm.Tests.Untrusted;

/// <summary>Every case that could overflow the stack, crash or hang runs in a child process and must end with its typed error within 10 s.</summary>
public sealed class ChildProcessCaseTests
{
    public static TheoryData<string> Cases => [.. ChildCases.All.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileCase_InChildProcess_EndsWithTypedErrorNamingTheLimit(string name)
    {
        ChildCase expected = ChildCases.All[name];

        (int exitCode, string output, TimeSpan elapsed) = ChildProcess.Run(name, TimeSpan.FromSeconds(20));

        Assert.True(exitCode == 0, $"the child ended with exit code {exitCode}: {output}");
        Assert.Contains($"{ChildProcess.Marker}{expected.ExceptionType}: ", output, StringComparison.Ordinal);
        foreach (string part in expected.MessageNames)
        {
            // "A|B": either limit may trip first (a loop on a loaded machine may reach the render time first).
            Assert.True(part.Split('|').Any(p => output.Contains(p, StringComparison.Ordinal)), $"the output names none of {part}: {output}");
        }

        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"the case took {elapsed.TotalSeconds:F1} s: {output}");
    }
}
