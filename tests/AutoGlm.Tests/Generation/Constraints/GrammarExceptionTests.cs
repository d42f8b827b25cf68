using System.Text.Json;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation.Constraints;

/// <summary>Schemas the engine cannot enforce fail at construction with the keyword and path named.</summary>
public sealed class GrammarExceptionTests
{
    public static TheoryData<string, string, string, string> BadSchemas => new()
    {
        { """{"type":"string","pattern":"^a"}""", "pattern", "#", "The JSON schema's 'pattern' at # is not supported" },
        { """{"type":"object","properties":{"n":{"type":"integer","minimum":3}}}""", "minimum", "#/properties/n", "'minimum' at #/properties/n is not supported" },
        { """{"$defs":{"node":{"type":"object","properties":{"next":{"$ref":"#/$defs/node"}}}},"$ref":"#/$defs/node"}""", "$ref", "#/$defs/node/properties/next", "refers back to itself" },
        { """{"enum":[]}""", "enum", "#", "lists no value" },
        { """{"type":"array","minItems":3,"maxItems":2}""", "minItems", "#", "more than maxItems 2" },
        { """{"anyOf":[{"type":"object"},{"type":"object","properties":{"a":{}}}]}""", "anyOf", "#", "can both start with '{'" },
        { """{"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false}""", "required", "#", "lists 'b', which is not declared" },
        { """{"type":"object","additionalProperties":{"type":"string"}}""", "additionalProperties", "#", "only true or false" },
        { """{"$ref":"#/$defs/missing"}""", "$ref", "#", "does not exist" },
        { """{"type":"strng"}""", "type", "#", "names 'strng'" },
    };

    [Theory]
    [MemberData(nameof(BadSchemas))]
    public void FromJsonSchema_Unsupported_ThrowsWithKeywordAndPath(string schema, string keyword, string path, string message)
    {
        GrammarException error = Assert.Throws<GrammarException>(() => GenerationConstraint.FromJsonSchema(JsonDocument.Parse(schema).RootElement));
        Assert.Equal(keyword, error.Keyword);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AutoGlmException>(error);
    }

    [Fact]
    public void Choice_Empty_Throws()
    {
        GrammarException error = Assert.Throws<GrammarException>(() => GenerationConstraint.Choice([]));
        Assert.Equal("choices", error.Keyword);
        Assert.Throws<GrammarException>(() => GenerationConstraint.Choice(["a", ""]));
    }

    [Fact]
    public void MinimumTokens_CountsTheShortestValueAndTheEndToken()
    {
        GenerationConstraint constraint = GenerationConstraint.FromJsonSchema(JsonDocument.Parse("""{"type":"object","properties":{"ab":{"type":"integer"}},"required":["ab"]}""").RootElement);

        // {"ab":0} is 8 bytes, then the end token.
        Assert.Equal(9, constraint.MinimumTokens);
        Assert.Equal(2, GenerationConstraint.JsonValue.MinimumTokens);
        Assert.Equal(3, GenerationConstraint.JsonObject.MinimumTokens);
    }
}
