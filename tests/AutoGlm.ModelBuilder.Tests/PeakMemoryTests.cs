using Xunit.Abstractions;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>The converter streams: its peak resident memory grows far less than the checkpoint it converts.</summary>
public sealed class PeakMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Build_150MBCheckpoint_PeakResidentGrowthStaysWellBelowCheckpointSize()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // VmHWM and its reset through clear_refs are Linux-only.
        }

        string checkpoint = TestModels.NewPath("ckpt-memory");
        RandomCheckpoint.Write(
            new RandomCheckpointOptions { Preset = "tiny", HiddenSize = 256, Heads = 8, KvHeads = 2, IntermediateSize = 1024, Layers = 4, VocabSize = 65536 },
            checkpoint,
            CancellationToken.None);
        long checkpointBytes = new FileInfo(Path.Combine(checkpoint, "model.safetensors")).Length;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
        long baseline = ReadStatusKiB("VmRSS") * 1024;
        GlmModelBuilder.Build(checkpoint, TestModels.NewPath("model-memory"), new ModelBuildOptions(), null, CancellationToken.None);
        long peak = ReadStatusKiB("VmHWM") * 1024;
        long growth = peak - baseline;
        output.WriteLine($"peak resident growth {growth / 1048576.0:F0} MiB for a {checkpointBytes / 1048576.0:F0} MiB checkpoint");
        Assert.True(checkpointBytes > 140_000_000, $"checkpoint is only {checkpointBytes} bytes");
        Assert.True(growth < checkpointBytes / 2, $"peak resident memory grew by {growth / 1048576} MiB while converting a {checkpointBytes / 1048576} MiB checkpoint");
    }

    private static long ReadStatusKiB(string field)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
