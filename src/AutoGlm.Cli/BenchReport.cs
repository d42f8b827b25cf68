using System.Text.Json.Serialization;

namespace AutoGlm.Cli;

/// <summary>What <c>autoglm bench</c> measured: the settings, and one result per concurrency level.</summary>
internal sealed record BenchReport
{
    /// <summary>The model folder.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The execution provider that ran the model.</summary>
    [JsonPropertyName("execution_provider")]
    public required string ExecutionProvider { get; init; }

    /// <summary>Prompt length of every request.</summary>
    [JsonPropertyName("prompt_tokens")]
    public required int PromptTokens { get; init; }

    /// <summary>Tokens every request generated.</summary>
    [JsonPropertyName("new_tokens")]
    public required int NewTokens { get; init; }

    /// <summary>Logical processors of the machine.</summary>
    [JsonPropertyName("logical_cores")]
    public required int LogicalCores { get; init; }

    /// <summary>The machine's 1, 5 and 15 minute load averages when the sweep ended (null where the OS does not report them).</summary>
    [JsonPropertyName("load_average")]
    public double[]? LoadAverage { get; init; }

    /// <summary>One result per concurrency level, in the order run.</summary>
    [JsonPropertyName("levels")]
    public required IReadOnlyList<BenchLevelResult> Levels { get; init; }
}
