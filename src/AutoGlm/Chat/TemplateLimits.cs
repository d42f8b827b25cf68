using System.Globalization;

namespace AutoGlm.Chat;

/// <summary>
/// The sandbox a chat template runs in. A chat template is code that comes with a model folder (or a user), so
/// AutoGlm bounds how deeply it may nest, how far its macros may recurse, how many loop iterations it may run,
/// how long the text it builds may get and how long rendering may take. A template that crosses a limit fails
/// with a <see cref="TokenizerException"/> naming the limit; raise the limit here for a template you trust.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed record TemplateLimits
{
    /// <summary>The largest value <see cref="MaxOutputLength"/> may take (the longest .NET string is about 2^30 characters).</summary>
    public const int MaxOutputLengthCeiling = 1 << 29;

    /// <summary>The largest value <see cref="MaxNestingDepth"/> may take.</summary>
    public const int MaxNestingDepthCeiling = 10_000;

    /// <summary>The limits AutoGlm uses unless told otherwise; generous for every known chat template.</summary>
    public static TemplateLimits Default { get; } = new();

    /// <summary>
    /// How deeply blocks (<c>if</c>, <c>for</c>, <c>macro</c>, <c>elif</c> chains) and expressions (parentheses,
    /// lists, <c>not</c>, chained filters and operators) may nest, counted together; 256 by default.
    /// </summary>
    public int MaxNestingDepth { get; init; } = 256;

    /// <summary>How many macro calls may be in progress at once (recursion depth); 64 by default.</summary>
    public int MaxMacroCallDepth { get; init; } = 64;

    /// <summary>
    /// The most loop iterations one rendering may run, over all loops together; it also caps the items of a
    /// <c>range()</c> and of any list the template builds. 1,000,000 by default.
    /// </summary>
    public int MaxLoopIterations { get; init; } = 1_000_000;

    /// <summary>The longest text (in UTF-16 characters) the rendered prompt or any string built on the way may have; 16 Mi by default.</summary>
    public int MaxOutputLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>How long one rendering may take; 5 seconds by default.</summary>
    public TimeSpan MaxRenderTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every limit, naming the bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is below 1 or above its ceiling; the message quotes it.</exception>
    public void Validate()
    {
        Check(MaxNestingDepth, 1, MaxNestingDepthCeiling, nameof(MaxNestingDepth));
        Check(MaxMacroCallDepth, 1, MaxNestingDepthCeiling, nameof(MaxMacroCallDepth));
        Check(MaxLoopIterations, 1, int.MaxValue, nameof(MaxLoopIterations));
        Check(MaxOutputLength, 1, MaxOutputLengthCeiling, nameof(MaxOutputLength));
        if (MaxRenderTime <= TimeSpan.Zero || MaxRenderTime > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRenderTime), MaxRenderTime, string.Create(CultureInfo.InvariantCulture, $"TemplateLimits.MaxRenderTime must be positive and at most one hour; got {MaxRenderTime}."));
        }
    }

    private static void Check(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"TemplateLimits.{name} must be between {min:N0} and {max:N0}; got {value}."));
        }
    }
}
