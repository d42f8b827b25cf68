namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// Every case that could overflow the stack, crash or hang runs in a child process and must end with its typed error;
/// the case itself (timed inside the child) within 10 s, the child process within 60 s even on a loaded machine.
/// </summary>
public sealed class ChildProcessCaseTests
{
    public static TheoryData<string> Cases => [.. ChildCases.All.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileCase_InChildProcess_EndsWithTypedErrorNamingTheLimit(string name)
    {
        ChildCase expected = ChildCases.All[name];

        (int exitCode, string output, _) = ChildProcess.Run(name, TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, $"the child ended with exit code {exitCode}: {output}");
        Assert.Contains($"{ChildProcess.Marker}{expected.ExceptionType}: ", output, StringComparison.Ordinal);
        foreach (string part in expected.MessageNames)
        {
            // "A|B": either limit may trip first (a loop on a loaded machine may reach the render time first).
            Assert.True(part.Split('|').Any(p => output.Contains(p, StringComparison.Ordinal)), $"the output names none of {part}: {output}");
        }

        string milliseconds = output[(output.IndexOf(ChildProcess.ElapsedMarker, StringComparison.Ordinal) + ChildProcess.ElapsedMarker.Length)..].Trim();
        Assert.True(int.Parse(milliseconds, System.Globalization.CultureInfo.InvariantCulture) < 10_000, $"the case took {milliseconds} ms: {output}");
    }
}
