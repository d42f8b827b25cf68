using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace AutoGlm.Chat;

/// <summary>JSON settings for prompts: compact, non-ASCII text kept as is (GLM is bilingual).</summary>
internal static class ChatJson
{
    public static JsonSerializerOptions Options { get; } = new(AIJsonUtilities.DefaultOptions)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Serialises a value whose type the options' resolver knows (the abstractions' own types, dictionaries, JSON elements, primitives).</summary>
    public static string Serialize(object value) => JsonSerializer.Serialize(value, Options.GetTypeInfo(value.GetType()));
}
