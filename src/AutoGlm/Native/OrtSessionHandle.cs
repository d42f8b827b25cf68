namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtSession</c>; releasing it calls <c>OrtApi.ReleaseSession</c> exactly once.</summary>
internal sealed unsafe class OrtSessionHandle : OrtHandle
{
    public OrtSessionHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        return true;
    }
}
