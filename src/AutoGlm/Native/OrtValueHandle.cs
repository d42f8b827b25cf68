namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtValue</c>; releasing it calls <c>OrtApi.ReleaseValue</c> exactly once.</summary>
internal sealed unsafe class OrtValueHandle : OrtHandle
{
    public OrtValueHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseValue(handle);
        return true;
    }
}
