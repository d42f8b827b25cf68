namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtSessionOptions</c>; releasing it calls <c>OrtApi.ReleaseSessionOptions</c> exactly once.</summary>
internal sealed unsafe class OrtSessionOptionsHandle : OrtHandle
{
    public OrtSessionOptionsHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}
