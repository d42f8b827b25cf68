namespace AutoGlm.Native;

/// <summary>Owns an <c>OrtCUDAProviderOptionsV2</c>; releasing it calls <c>OrtApi.ReleaseCudaProviderOptions</c> exactly once.</summary>
internal sealed unsafe class OrtCudaProviderOptionsHandle : OrtHandle
{
    public OrtCudaProviderOptionsHandle(nint handle, OrtApi api)
        : base(handle, api)
    {
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseCudaProviderOptions(handle);
        return true;
    }
}
