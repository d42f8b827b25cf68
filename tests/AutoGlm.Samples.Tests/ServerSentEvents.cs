using System.Text.Json;

namespace AutoGlm.Samples.Tests;

/// <summary>Splits a <c>text/event-stream</c> body into its <c>data:</c> payloads, checking the framing on the way.</summary>
public static class ServerSentEvents
{
    public static List<string> Data(string body)
    {
        Assert.EndsWith("\n\n", body, StringComparison.Ordinal);
        var payloads = new List<string>();
        foreach (string block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", block, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', block);
            payloads.Add(block["data: ".Length..]);
        }

        return payloads;
    }

    /// <summary>The JSON chunks before the final <c>[DONE]</c>, which must be present and last.</summary>
    public static List<JsonElement> Chunks(string body)
    {
        List<string> data = Data(body);
        Assert.Equal("[DONE]", data[^1]);
        Assert.Equal(1, data.Count(d => d == "[DONE]"));
        return [.. data.Take(data.Count - 1).Select(d => JsonDocument.Parse(d).RootElement.Clone())];
    }
}
