namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtTensorTypeAndShapeInfo</c>; releasing it calls <c>OrtApi.ReleaseTensorTypeAndShapeInfo</c> exactly once.</summary>
internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle : OrtHandle
{
    public OrtTensorTypeAndShapeInfoHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}
