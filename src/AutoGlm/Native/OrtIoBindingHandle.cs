namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtIoBinding</c>; releasing it calls <c>OrtApi.ReleaseIoBinding</c> exactly once.</summary>
internal sealed unsafe class OrtIoBindingHandle : OrtHandle
{
    public OrtIoBindingHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseIoBinding(handle);
        return true;
    }
}
