using System.Runtime.InteropServices;

namespace AutoGlm.Native;

/// <summary>
/// The base of the native-object handles: one <see cref="SafeHandle"/> subclass per ONNX Runtime object type,
/// so a native object is released exactly once, even when its owner is never disposed.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(nint handle, OrtApi api)
        : base(0, ownsHandle: true)
    {
        Api = api;
        SetHandle(handle);
    }

    /// <summary>The API table that created the object and releases it.</summary>
    protected OrtApi Api { get; }

    public override bool IsInvalid => handle == 0;
}
