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

    /// <summary>As <see cref="Options"/>, naming properties snake_case for reports that carry no names of their own.</summary>
    public static JsonSerializerOptions SnakeCase { get; } = new(Options) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
