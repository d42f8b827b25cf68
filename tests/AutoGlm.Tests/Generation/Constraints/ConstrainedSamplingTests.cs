using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGlm.Generation;
using AutoGlm.Generation.Constraints;
using Json.Schema;

namespace AutoGlm.Tests.Generation.Constraints;

/// <summary>
/// The masker with random logits over a synthetic byte-level vocabulary: every output that ends with the end token
/// validates against its schema by JsonSchema.Net (an independent validator), and the length guarantee holds.
/// </summary>
public sealed class ConstrainedSamplingTests
{
    private static readonly SyntheticVocabulary s_vocabulary = new();

    public const string NestedSchema = """
        {
          "$defs": {
            "tag": { "type": "string", "minLength": 1, "maxLength": 6 },
            "point": { "type": "object", "properties": { "x": { "type": "integer" }, "y": { "type": "number" } }, "required": ["x", "y"], "additionalProperties": false }
          },
          "type": "object",
          "properties": {
            "name": { "type": "string" },
            "age": { "type": "integer" },
            "color": { "enum": ["red", "green", "blue"] },
            "tags": { "type": "array", "items": { "$ref": "#/$defs/tag" }, "minItems": 1, "maxItems": 3 },
            "where": { "$ref": "#/$defs/point" },
            "note": { "type": ["string", "null"] },
            "value": { "anyOf": [ { "type": "boolean" }, { "type": "integer" }, { "const": "n/a" } ] },
            "extra": { "type": "object" }
          },
          "required": ["name", "color", "tags", "where", "value"],
          "additionalProperties": false
        }
        """;

    public static TheoryData<string> Schemas => new()
    {
        NestedSchema,
        """{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"on":{"type":"boolean"}},"required":["id"]},"maxItems":4}""",
        """{"oneOf":[{"type":"string","maxLength":3},{"type":"integer"},{"type":"null"}]}""",
        """{"type":"object","properties":{"a":{"type":"string","minLength":2,"maxLength":2},"b":{"const":{"k":[1,2]}}},"required":["a","b"]}""",
        """true""",
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void RandomLogits_EveryStoppedOutputValidatesWithJsonSchemaNet(string schemaText)
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        GenerationConstraint constraint = GenerationConstraint.FromJsonSchema(JsonDocument.Parse(schemaText).RootElement);
        JsonSchema validator = JsonSchema.FromText(schemaText);
        int stopped = 0;
        for (int seed = 0; seed < 150; seed++)
        {
            (string text, bool stop, _) = s_vocabulary.Generate(masker, constraint, maxTokens: 160, seed);
            Assert.True(stop, $"seed {seed}: the length guarantee should end every output with the end token, got {text}");
            stopped++;
            JsonNode? node = JsonNode.Parse(text);
            EvaluationResults results = validator.Evaluate(node, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(results.IsValid, $"seed {seed}: {text} does not validate against {schemaText}");
        }

        Assert.Equal(150, stopped);
    }

    [Fact]
    public void TightBudget_StillEndsWithACompleteValue()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        GenerationConstraint constraint = GenerationConstraint.FromJsonSchema(JsonDocument.Parse(NestedSchema).RootElement);
        JsonSchema validator = JsonSchema.FromText(NestedSchema);
        for (int seed = 0; seed < 50; seed++)
        {
            (string text, bool stop, int tokens) = s_vocabulary.Generate(masker, constraint, maxTokens: constraint.MinimumTokens + (seed % 5), seed);
            Assert.True(stop);
            Assert.True(tokens <= constraint.MinimumTokens + (seed % 5));
            Assert.True(validator.Evaluate(JsonNode.Parse(text)).IsValid, text);
        }
    }

    [Fact]
    public void AnyJson_StoppedOutputsParse()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        for (int seed = 0; seed < 200; seed++)
        {
            (string text, bool stop, _) = s_vocabulary.Generate(masker, GenerationConstraint.JsonValue, maxTokens: 64, seed);
            Assert.True(stop);
            using JsonDocument document = JsonDocument.Parse(text);
        }
    }

    [Fact]
    public void JsonObject_IsAlwaysAnObject()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        for (int seed = 0; seed < 100; seed++)
        {
            (string text, _, _) = s_vocabulary.Generate(masker, GenerationConstraint.JsonObject, maxTokens: 64, seed);
            using JsonDocument document = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Fact]
    public void Choice_ProducesExactlyOneOfTheStrings()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        string[] choices = ["yes", "no", "maybe", "nope"];
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 100; seed++)
        {
            (string text, bool stop, _) = s_vocabulary.Generate(masker, GenerationConstraint.Choice(choices), maxTokens: 10, seed);
            Assert.True(stop);
            Assert.Contains(text, choices);
            seen.Add(text);
        }

        Assert.True(seen.Count >= 3, string.Join(",", seen));
    }

    [Fact]
    public void ToolCall_NameNewlineArgumentsThatValidate()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        string weather = """{"type":"object","properties":{"city":{"type":"string","maxLength":8},"days":{"type":"integer"}},"required":["city"],"additionalProperties":false}""";
        string light = """{"type":"object","properties":{"on":{"type":"boolean"}},"required":["on"],"additionalProperties":false}""";
        GenerationConstraint constraint = GenerationConstraint.ToolCall(
        [
            new("get_weather", JsonDocument.Parse(weather).RootElement),
            new("set_light", JsonDocument.Parse(light).RootElement),
        ]);
        var names = new HashSet<string>();
        for (int seed = 0; seed < 150; seed++)
        {
            (string text, bool stop, _) = s_vocabulary.Generate(masker, constraint, maxTokens: 80, seed);
            Assert.True(stop);
            int newline = text.IndexOf('\n', StringComparison.Ordinal);
            string name = text[..newline];
            string schema = name == "get_weather" ? weather : name == "set_light" ? light : throw new InvalidOperationException(text);
            names.Add(name);
            Assert.True(JsonSchema.FromText(schema).Evaluate(JsonNode.Parse(text[(newline + 1)..])).IsValid, text);
        }

        Assert.Equal(2, names.Count);
    }

    [Fact]
    public void Mask_InsideAString_AllowsPlainTokensAndTheClosingQuote()
    {
        var masker = new ConstraintMasker(s_vocabulary.Vocabulary, s_vocabulary.Size);
        var state = new GrammarState(GenerationConstraint.JsonValue.Grammar);
        Assert.True(state.TryAdvance("\"ab"u8));
        masker.Compute(state, 100, [s_vocabulary.EndToken], []);
        Assert.True(masker.IsAllowed('x'));
        Assert.True(masker.IsAllowed('"'));
        Assert.True(masker.IsAllowed('\\'));
        Assert.False(masker.IsAllowed('\n'));
        Assert.False(masker.IsAllowed(s_vocabulary.EndToken));
        Assert.True(state.TryAdvance("\""u8));
        Assert.True(state.IsComplete);
        masker.Compute(state, 100, [s_vocabulary.EndToken], []);
        Assert.True(masker.IsAllowed(s_vocabulary.EndToken));
        Assert.False(masker.IsAllowed(' '));
    }
}
