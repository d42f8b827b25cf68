namespace AutoGlm.Chat.Jinja;

/// <summary>A template failed to parse or render at an offset of the preprocessed text; ChatTemplate turns it into a TokenizerException naming the line.</summary>
/// <remarks>Immutable.</remarks>
internal sealed class TemplateException : Exception
{
    public TemplateException(int offset, string problem)
        : base(problem)
    {
        Offset = offset;
    }

    public TemplateException(int offset, string problem, Exception innerException)
        : base(problem, innerException)
    {
        Offset = offset;
    }

    public TemplateException()
    {
    }

    public TemplateException(string message)
        : base(message)
    {
    }

    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Where in the preprocessed text it happened.</summary>
    public int Offset { get; }

    /// <summary>Whether the template itself asked to stop, through <c>raise_exception</c>.</summary>
    public bool RaisedByTemplate { get; init; }
}
