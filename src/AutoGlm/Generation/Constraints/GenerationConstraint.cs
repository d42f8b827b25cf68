using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoGlm.Generation.Constraints;

namespace AutoGlm.Generation;

/// <summary>
/// Guaranteed structure for a request's output: at every step the tokens that would make the output invalid are
/// masked out before sampling, and the end-of-sequence token is allowed only where the output is complete. Set it
/// on <see cref="GenerationOptions.Constraint"/>.
/// </summary>
/// <remarks>
/// <para>
/// An output that ends with <see cref="FinishReason.Stop"/> is a complete value of the grammar. When the model's
/// vocabulary has a token for every printable ASCII character (every byte-level BPE vocabulary, GLM's included)
/// the output is also steered to finish within <see cref="GenerationOptions.MaxNewTokens"/>; otherwise a request
/// that runs out of tokens mid-value ends with <see cref="FinishReason.Length"/> and no claim of validity.
/// </para>
/// <para>
/// JSON output has no whitespace around the value and at most 16 whitespace bytes in a row inside it; numbers have
/// at most 12 integer and 12 fraction digits and a two-digit exponent; free-form values nest at most 15 levels.
/// </para>
/// <para>Immutable and thread-safe: one instance may serve any number of requests at once.</para>
/// </remarks>
public sealed class GenerationConstraint
{
    private static readonly Lazy<GenerationConstraint> s_anyJson = new(() => new GenerationConstraint(new Grammar { Root = Grammar.AnyValue }, "any JSON value"));
    private static readonly Lazy<GenerationConstraint> s_jsonObject = new(() => new GenerationConstraint(new Grammar { Root = Grammar.AnyObject }, "a JSON object"));

    private GenerationConstraint(Grammar grammar, string description)
    {
        Grammar = grammar;
        Description = description;
    }

    /// <summary>Gets any JSON value (object, array, string, number, boolean or null).</summary>
    public static GenerationConstraint JsonValue => s_anyJson.Value;

    /// <summary>Gets any JSON object (what OpenAI's <c>response_format: json_object</c> asks for).</summary>
    public static GenerationConstraint JsonObject => s_jsonObject.Value;

    /// <summary>Gets what the constraint allows, for messages.</summary>
    public string Description { get; }

    /// <summary>Gets the fewest new tokens a request needs to produce a complete output and its end-of-sequence token.</summary>
    public int MinimumTokens => Grammar.MinBytes + 1;

    internal Grammar Grammar { get; }

    /// <summary>Creates a constraint to values that validate against a JSON schema.</summary>
    /// <param name="schema">The schema (a JSON object or boolean).</param>
    /// <returns>The constraint.</returns>
    /// <exception cref="GrammarException">The schema uses an unsupported keyword, refers to itself, or allows no value; <see cref="GrammarException.Keyword"/> and <see cref="GrammarException.Path"/> say where.</exception>
    public static GenerationConstraint FromJsonSchema(JsonElement schema) => new(JsonSchemaCompiler.Compile(schema), "a value of the JSON schema");

    /// <summary>Creates a constraint to exactly one of <paramref name="choices"/> (plain text, not JSON).</summary>
    /// <param name="choices">The allowed outputs; at least one, none empty.</param>
    /// <returns>The constraint.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="choices"/> or one of them is null.</exception>
    /// <exception cref="GrammarException">The list is empty or holds an empty string.</exception>
    public static GenerationConstraint Choice(IEnumerable<string> choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        string[] list = [.. choices];
        if (list.Length == 0)
        {
            throw new GrammarException("A choice constraint needs at least one allowed string; none was given.", "choices", "#");
        }

        var entries = new List<byte[]>();
        for (int i = 0; i < list.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(list[i], nameof(choices));
            if (list[i].Length == 0)
            {
                throw new GrammarException(string.Create(CultureInfo.InvariantCulture, $"Choice {i} is an empty string, which cannot be generated (a request must produce at least one token before it ends); remove it."), "choices", $"#/{i}");
            }

            entries.Add(Encoding.UTF8.GetBytes(list[i]));
        }

        var grammar = new Grammar();
        grammar.Root = grammar.AddLiterals(entries, null);
        return new GenerationConstraint(grammar, "one of the given choices");
    }

    /// <summary>
    /// Creates a constraint to one GLM-4 tool call: a function name from <paramref name="functions"/>, a newline,
    /// and arguments that validate against that function's parameter schema (any JSON object when it has none).
    /// </summary>
    /// <param name="functions">Function names and their parameter schemas; at least one.</param>
    /// <returns>The constraint.</returns>
    /// <exception cref="GrammarException">No function, a name that is empty or holds a newline, or a schema that cannot be enforced.</exception>
    public static GenerationConstraint ToolCall(IEnumerable<KeyValuePair<string, JsonElement?>> functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var grammar = new Grammar();
        var entries = new List<byte[]>();
        var continuations = new List<int>();
        foreach ((string name, JsonElement? schema) in functions)
        {
            if (string.IsNullOrEmpty(name) || name.Contains('\n', StringComparison.Ordinal))
            {
                throw new GrammarException($"The tool name '{name}' is empty or holds a newline, so a GLM tool call could not name it; rename the function.", "name", "#");
            }

            string path = $"#/tools/{name}/parameters";
            int arguments = schema is { } s ? JsonSchemaCompiler.CompileInto(grammar, s, path) : Grammar.AnyObject;
            entries.Add(Encoding.UTF8.GetBytes(name + "\n"));
            continuations.Add(arguments);
        }

        if (entries.Count == 0)
        {
            throw new GrammarException("A tool-call constraint needs at least one function; none was given.", "tools", "#");
        }

        grammar.Root = grammar.AddLiterals(entries, continuations);
        return new GenerationConstraint(grammar, "a tool call");
    }
}
