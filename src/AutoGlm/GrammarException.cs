namespace AutoGlm;

/// <summary>
/// A generation constraint cannot be built or cannot be met: a JSON schema uses a keyword AutoGlm does not
/// enforce, refers to itself, lists no allowed value, or needs more tokens than the request may generate.
/// Raised before any token is generated.
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class GrammarException : AutoGlmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, where, and how to fix it.</param>
    /// <param name="keyword">The schema keyword (or option) at fault, such as <c>pattern</c> or <c>$ref</c>.</param>
    /// <param name="path">Where in the schema, as a JSON pointer such as <c>#/properties/name</c>.</param>
    public GrammarException(string message, string? keyword, string? path)
        : base(message)
    {
        Keyword = keyword;
        Path = path;
    }

    /// <summary>Gets the schema keyword (or option) at fault, when there is one.</summary>
    public string? Keyword { get; }

    /// <summary>Gets where in the schema the problem is, as a JSON pointer (<c>#</c> is the root).</summary>
    public string? Path { get; }
}
