namespace AutoGlm.ModelBuilder;

/// <summary>How far a conversion has come.</summary>
/// <param name="TensorsDone">Output tensors written so far.</param>
/// <param name="TensorsTotal">Output tensors to write.</param>
/// <param name="BytesRead">Checkpoint bytes consumed so far.</param>
/// <param name="BytesTotal">Checkpoint bytes to consume.</param>
/// <param name="Elapsed">Time since the conversion started.</param>
/// <param name="CurrentTensor">The output tensor being written.</param>
public readonly record struct ModelBuildProgress(int TensorsDone, int TensorsTotal, long BytesRead, long BytesTotal, TimeSpan Elapsed, string CurrentTensor)
{
    /// <summary>Checkpoint bytes consumed per second so far.</summary>
    public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesRead / Elapsed.TotalSeconds : 0;
}
