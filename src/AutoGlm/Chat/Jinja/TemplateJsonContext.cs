using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AutoGlm.Chat.Jinja;

/// <summary>Source-generated JSON metadata, so converting a <see cref="JsonNode"/> works under trimming and AOT.</summary>
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class TemplateJsonContext : JsonSerializerContext;
