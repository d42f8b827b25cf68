namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The gradual rollout of a <see cref="GlmModelHost"/>: the candidate model version beside the primary one, its share of new
/// requests, and the routing of each request to one of them.
/// </summary>
/// <remarks>Not thread-safe: every member is called under the host's lock.</remarks>
internal sealed class RolloutRouter
{
    private double _share;
    private long _routed;

    /// <summary>The candidate version in rollout, or null.</summary>
    public ModelSlot? Candidate { get; private set; }

    /// <summary>Whether a candidate is being loaded.</summary>
    public bool Loading { get; private set; }

    /// <summary>Whether a candidate is loaded or loading (the primary must then stay loaded).</summary>
    public bool Active => Candidate is not null || Loading;

    /// <summary>The candidate's share of new requests, 0 without a candidate.</summary>
    public double Share => Candidate is null ? 0 : _share;

    /// <summary>Reserves the rollout for a candidate being loaded from <paramref name="fullPath"/>.</summary>
    /// <exception cref="InvalidOperationException">A candidate is already loaded or loading.</exception>
    public void BeginLoad(string fullPath)
    {
        if (Active)
        {
            throw new InvalidOperationException(
                $"A candidate model ('{Candidate?.ModelPath ?? "loading"}') is already in rollout; promote it or roll it back before loading '{fullPath}'.");
        }

        Loading = true;
    }

    /// <summary>Ends a candidate load: installs <paramref name="loaded"/> with <paramref name="share"/>, or frees the rollout when null.</summary>
    public void EndLoad(ModelSlot? loaded, double share)
    {
        Loading = false;
        if (loaded is not null)
        {
            Candidate = loaded;
            SetShare(share);
        }
    }

    /// <summary>Sets the candidate's share and restarts the count the split is exact over.</summary>
    public void SetShare(double share)
    {
        _share = share;
        _routed = 0;
    }

    /// <summary>Removes the candidate from the rollout (to promote it or roll it back) and returns it.</summary>
    /// <exception cref="InvalidOperationException">No candidate is loaded.</exception>
    public ModelSlot TakeCandidate()
    {
        ModelSlot candidate = Candidate ?? throw NoCandidate();
        Candidate = null;
        return candidate;
    }

    /// <summary>The candidate, or throws when there is none.</summary>
    public ModelSlot RequireCandidate() => Candidate ?? throw NoCandidate();

    /// <summary>
    /// Picks the version for the next request. A running count rather than a random draw: the candidate gets exactly
    /// ⌊n × share⌋ of the first n requests since the share was set, so a small share is honoured from the first requests on.
    /// </summary>
    public ModelSlot Route(ModelSlot primary, out bool isCandidate)
    {
        isCandidate = false;
        if (Candidate is null || _share <= 0)
        {
            return primary;
        }

        long n = ++_routed;
        if (Math.Floor(n * _share) > Math.Floor((n - 1) * _share))
        {
            isCandidate = true;
            return Candidate;
        }

        return primary;
    }

    private static InvalidOperationException NoCandidate() => new("No candidate model is in rollout; call LoadCandidateAsync first.");
}
