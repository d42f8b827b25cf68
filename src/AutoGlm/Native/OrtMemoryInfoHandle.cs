namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtMemoryInfo</c>; releasing it calls <c>OrtApi.ReleaseMemoryInfo</c> exactly once.</summary>
internal sealed unsafe class OrtMemoryInfoHandle : OrtHandle
{
    public OrtMemoryInfoHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}
