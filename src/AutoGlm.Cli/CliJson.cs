using System.Text.Encodings.Web;
using System.Text.Json;

namespace AutoGlm.Cli;

/// <summary>JSON settings for <c>--json</c> output: snake_case names as written, non-ASCII text kept readable.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
