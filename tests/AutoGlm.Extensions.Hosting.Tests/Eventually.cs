namespace AutoGlm.Extensions.Hosting.Tests;

internal static class Eventually
{
    /// <summary>Waits up to 30 s for <paramref name="condition"/>, failing with <paramref name="what"/> if it never holds.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for: {what}");
            await Task.Delay(5);
        }
    }
}
