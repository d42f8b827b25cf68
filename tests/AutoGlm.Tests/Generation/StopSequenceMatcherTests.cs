using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class StopSequenceMatcherTests
{
    // Released pieces joined by '|', then whether the matcher stopped.
    private static string Feed(string[] stops, params string[] pieces)
    {
        var matcher = new StopSequenceMatcher(stops);
        var released = new List<string>();
        foreach (string piece in pieces)
        {
            released.Add(matcher.Append(piece));
            if (matcher.IsStopped)
            {
                break;
            }
        }

        return string.Join("|", released) + (matcher.IsStopped ? " [stopped]" : "");
    }

    [Fact]
    public void Append_NoStopSequences_ReleasesEverythingAtOnce()
    {
        Assert.Equal("ab|c", Feed([], "ab", "c"));
    }

    [Fact]
    public void Append_StopSpanningTokens_HoldsThePrefixAndStopsBeforeIt()
    {
        // "hello world" with stop "o wor": "he" cannot begin the stop; after "llo wo" the tail "o wo" could.
        Assert.Equal("he|ll| [stopped]", Feed(["o wor"], "he", "llo wo", "rld", "!"));
    }

    [Fact]
    public void Append_PrefixThatTurnsOutNotToBeAStop_IsReleasedLater()
    {
        Assert.Equal("a||ENx|y", Feed(["END"], "a", "E", "Nx", "y"));
    }

    [Fact]
    public void Append_StopInsideOneToken_ReleasesTheTextBeforeIt()
    {
        Assert.Equal("abc [stopped]", Feed(["END"], "abcENDdef"));
    }

    [Fact]
    public void Append_SeveralStops_TheEarliestOccurrenceWins()
    {
        Assert.Equal("hel [stopped]", Feed(["world", "lo"], "hello world"));
    }

    [Fact]
    public void Append_OverlappingRepeatedPrefix_StopsAtTheRightCharacter()
    {
        // "aaab" with stop "aab": only the first "a" is output.
        Assert.Equal("||a| [stopped]", Feed(["aab"], "a", "a", "a", "b"));
    }

    [Fact]
    public void Flush_HeldBackPrefix_ReleasesIt()
    {
        var matcher = new StopSequenceMatcher(["END"]);
        Assert.Equal("x", matcher.Append("xEN"));
        Assert.Equal(2, matcher.HeldBackLength);
        Assert.Equal("EN", matcher.Flush());
        Assert.Equal(0, matcher.HeldBackLength);
        Assert.False(matcher.IsStopped);
    }

    [Fact]
    public void Append_AfterStop_ThrowsInvalidOperation()
    {
        var matcher = new StopSequenceMatcher(["x"]);
        Assert.Equal("", matcher.Append("x"));
        Assert.Throws<InvalidOperationException>(() => matcher.Append("y"));
    }
}
