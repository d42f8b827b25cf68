namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtTypeInfo</c>; releasing it calls <c>OrtApi.ReleaseTypeInfo</c> exactly once.</summary>
internal sealed unsafe class OrtTypeInfoHandle : OrtHandle
{
    public OrtTypeInfoHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}
