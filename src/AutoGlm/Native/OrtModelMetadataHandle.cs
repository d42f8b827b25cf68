namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtModelMetadata</c>; releasing it calls <c>OrtApi.ReleaseModelMetadata</c> exactly once.</summary>
internal sealed unsafe class OrtModelMetadataHandle : OrtHandle
{
    public OrtModelMetadataHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseModelMetadata(handle);
        return true;
    }
}
