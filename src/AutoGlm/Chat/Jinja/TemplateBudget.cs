using System.Globalization;
using System.Runtime.CompilerServices;

namespace AutoGlm.Chat.Jinja;

/// <summary>
/// What one rendering may still spend under its <see cref="TemplateLimits"/>: loop iterations, text length and time.
/// The interpreter makes it current on its thread while it renders, so filters and methods that can amplify text
/// (replace, join, repetition, tojson) can check it before they allocate.
/// </summary>
/// <remarks>Not thread-safe; one rendering owns one budget on one thread.</remarks>
internal sealed class TemplateBudget
{
    private const string RaiseHint = "raise it with TemplateLimits (AutoGlmChatClientOptions.TemplateLimits, or the limits argument of ChatTemplate.Parse / FromModelFolder) if the template is trusted";

    [ThreadStatic]
    private static TemplateBudget? t_current;

    private readonly TimeProvider _timeProvider;
    private readonly long _started;
    private long _iterations;

    public TemplateBudget(TemplateLimits limits, TimeProvider timeProvider)
    {
        Limits = limits;
        _timeProvider = timeProvider;
        _started = timeProvider.GetTimestamp();
    }

    public TemplateLimits Limits { get; }

    /// <summary>The budget of the rendering running on this thread, if any.</summary>
    public static TemplateBudget? Current => t_current;

    /// <summary>Makes this budget current on the calling thread until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        TemplateBudget? previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    /// <summary>Counts one loop iteration and checks the clock.</summary>
    public void CountIteration()
    {
        if (++_iterations > Limits.MaxLoopIterations)
        {
            throw Exceeded($"the template ran more than {Limits.MaxLoopIterations:N0} loop iterations (TemplateLimits.MaxLoopIterations)");
        }

        CheckTime();
    }

    /// <summary>Throws when a list would get more items than a rendering may iterate.</summary>
    public static void CheckItems(long count)
    {
        if (t_current is { } budget && count > budget.Limits.MaxLoopIterations)
        {
            throw Exceeded($"a list or range would hold {count:N0} items, more than TemplateLimits.MaxLoopIterations ({budget.Limits.MaxLoopIterations:N0})");
        }
    }

    /// <summary>Throws when a string of <paramref name="length"/> characters is longer than a rendering may build.</summary>
    public static void CheckLength(long length)
    {
        long max = t_current?.Limits.MaxOutputLength ?? TemplateLimits.MaxOutputLengthCeiling;
        if (length > max)
        {
            throw Exceeded($"the template would build text of {length:N0} characters, more than TemplateLimits.MaxOutputLength ({max:N0})");
        }
    }

    /// <summary>Throws when the rendering has run longer than allowed.</summary>
    public void CheckTime()
    {
        TimeSpan elapsed = _timeProvider.GetElapsedTime(_started);
        if (elapsed > Limits.MaxRenderTime)
        {
            throw Exceeded($"rendering took longer than TemplateLimits.MaxRenderTime ({Limits.MaxRenderTime.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s)");
        }
    }

    /// <summary>Throws a nesting error unless there is stack enough for one more level (the last guard against stack overflow).</summary>
    public static void EnsureStack(int depth)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw StackExhausted(depth);
        }
    }

    public static TemplateLimitException StackExhausted(int depth) =>
        Exceeded($"the template nests {depth:N0} levels deep, more than this thread's stack holds; lower TemplateLimits.MaxNestingDepth or simplify the template");

    public static TemplateLimitException NestingExceeded(int limit) =>
        Exceeded($"the template nests deeper than TemplateLimits.MaxNestingDepth ({limit:N0} levels of blocks, parentheses, lists, 'not', filters or operators)");

    private static TemplateLimitException Exceeded(string what) => new($"{what}; {RaiseHint}");

    /// <summary>Restores the previous budget.</summary>
    public readonly struct Scope(TemplateBudget? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
