namespace AutoGlm.Execution;

/// <summary>
/// Which execution provider a session uses, and why every provider tried before it was rejected
/// (for <see cref="ExecutionProvider.Auto"/>; empty when a provider was requested explicitly and worked).
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed class ExecutionProviderSelection
{
    internal ExecutionProviderSelection(ExecutionProvider requested, ExecutionProvider selected, IReadOnlyList<ExecutionProviderRejection> rejections)
    {
        Requested = requested;
        Selected = selected;
        Rejections = rejections;
    }

    /// <summary>The provider that was asked for.</summary>
    public ExecutionProvider Requested { get; }

    /// <summary>The provider the session runs on.</summary>
    public ExecutionProvider Selected { get; }

    /// <summary>Providers tried and rejected, in order, each with the reason.</summary>
    public IReadOnlyList<ExecutionProviderRejection> Rejections { get; }

    /// <inheritdoc />
    public override string ToString()
        => Rejections.Count == 0
            ? $"{Selected} (requested {Requested})"
            : $"{Selected} (requested {Requested}; rejected: {string.Join("; ", Rejections.Select(r => $"{r.Provider}: {r.Reason}"))})";
}

/// <summary>A provider that could not be used, and why.</summary>
/// <param name="Provider">The provider that was tried.</param>
/// <param name="Reason">What is missing and how to install it.</param>
public sealed record ExecutionProviderRejection(ExecutionProvider Provider, string Reason);
