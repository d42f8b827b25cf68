namespace AutoGlm.Chat.Jinja;

/// <summary>A template crossed one of its <see cref="TemplateLimits"/>; the message names the limit and how to raise it.</summary>
/// <remarks>Immutable.</remarks>
internal sealed class TemplateLimitException : InvalidOperationException
{
    public TemplateLimitException()
    {
    }

    public TemplateLimitException(string message)
        : base(message)
    {
    }

    public TemplateLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
