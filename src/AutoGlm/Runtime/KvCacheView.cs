using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Runtime;

/// <summary>Key and value tensors, one per layer, over a range of rows of a <see cref="KvCacheStorage"/>.</summary>
internal sealed class KvCacheView : IDisposable
{
    public KvCacheView(OrtValue[] keys, OrtValue[] values)
    {
        Keys = keys;
        Values = values;
    }

    public OrtValue[] Keys { get; }

    public OrtValue[] Values { get; }

    public void Dispose()
    {
        foreach (OrtValue value in Keys)
        {
            value.Dispose();
        }

        foreach (OrtValue value in Values)
        {
            value.Dispose();
        }
    }
}
