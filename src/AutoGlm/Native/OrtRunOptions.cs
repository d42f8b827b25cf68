namespace AutoGlm.Native;

/// <summary>
/// Options for one or more runs; <see cref="Terminate"/> asks every run using them to stop as soon as
/// possible (the run then fails, and the caller reports cancellation).
/// </summary>
/// <remarks><see cref="Terminate"/> may be called from any thread while a run is in progress.</remarks>
internal sealed unsafe class OrtRunOptions : IDisposable
{
    public OrtRunOptions()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        nint options;
        api.ThrowIfFailed(api.CreateRunOptions(&options), "creating run options");
        Handle = new OrtRunOptionsHandle(options, api);
    }

    public OrtRunOptionsHandle Handle { get; }

    /// <summary>Whether <see cref="Terminate"/> was called since the last <see cref="Reset"/>.</summary>
    public bool IsTerminated { get; private set; }

    /// <summary>Asks runs using these options to stop. Safe to call from any thread, also after disposal (then it does nothing).</summary>
    public void Terminate()
    {
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            OrtApi api = OrtRuntime.Instance.Api;
            IsTerminated = true;
            api.ThrowIfFailed(api.RunOptionsSetTerminate(Handle.DangerousGetHandle()), "terminating a run");
        }
        catch (ObjectDisposedException)
        {
            // The run already finished and its options are gone: nothing left to stop.
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    /// <summary>Clears the terminate flag so the options can be used again.</summary>
    public void Reset()
    {
        OrtApi api = OrtRuntime.Instance.Api;
        api.ThrowIfFailed(api.RunOptionsUnsetTerminate(Handle.DangerousGetHandle()), "resetting run options");
        IsTerminated = false;
    }

    public void Dispose() => Handle.Dispose();
}
