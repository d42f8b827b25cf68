namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtRunOptions</c>; releasing it calls <c>OrtApi.ReleaseRunOptions</c> exactly once.</summary>
internal sealed unsafe class OrtRunOptionsHandle : OrtHandle
{
    public OrtRunOptionsHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseRunOptions(handle);
        return true;
    }
}
