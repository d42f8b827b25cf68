namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtEnv</c>; releasing it calls <c>OrtApi.ReleaseEnv</c> exactly once.</summary>
internal sealed unsafe class OrtEnvHandle : OrtHandle
{
    public OrtEnvHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}
