using AutoGlm.Benchmarks;
using BenchmarkDotNet.Running;

// Besides the BenchmarkDotNet switcher, three harnesses that need fresh processes or whole-run counters:
//   --load-memory [OUT.md]             resident memory, mapped vs read weights (children: --load-probe FOLDER true|false)
//   --runtime-memory [OUT.md]          bytes allocated per decoded token; KV bytes against tokens in flight
//   --interleaved [OUT.md [decode]]    decode and concurrency comparisons with the contenders run in turns
//   --jit-probe [OUT.md [int4|fp32]]  the methods the JIT compiles while a loaded model streams tokens
//   --vs-genai [OUT.md [ROUNDS]]       AutoGlm vs ONNX Runtime GenAI 0.18: batch-1 decode, TTFT, ITL, 8 concurrent, memory
//   --sampler-probe                    quick Sampler.Sample timings per sampling mode at 151 552 tokens (min/p25/median)
//   --bandwidth [OUT.md [ROUNDS [PRESET,…]]]  int4 batch-1 decode vs the measured memory-bandwidth ceiling (small, glm-edge-1.5b)
return args switch
{
    ["--sampler-probe"] => SamplerProbe.Run(),
    ["--load-probe", string folder, string map] => LoadMemoryProbe.Probe(folder, bool.Parse(map)),
    ["--load-memory", .. string[] rest] => LoadMemoryProbe.Report(rest.FirstOrDefault()),
    ["--runtime-memory", .. string[] rest] => RuntimeMemoryProbe.Report(rest.FirstOrDefault()),
    ["--interleaved", string output, "decode"] => InterleavedRuns.Report(output, decodeOnly: true),
    ["--interleaved", .. string[] rest] => InterleavedRuns.Report(rest.FirstOrDefault()),
    ["--jit-probe", string output, string precision] => JitProbe.Report(output, Enum.Parse<AutoGlm.ModelBuilder.ModelPrecision>(precision, ignoreCase: true)),
    ["--jit-probe", .. string[] rest] => JitProbe.Report(rest.FirstOrDefault(), AutoGlm.ModelBuilder.ModelPrecision.Int4),
    ["--vs-genai", string output, string rounds] => GenAiComparison.Report(output, int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture)),
    ["--vs-genai", .. string[] rest] => GenAiComparison.Report(rest.FirstOrDefault(), rounds: 5),
    ["--bandwidth", string output, string rounds, string presets] => BandwidthCeiling.Report(output, int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), presets.Split(',')),
    ["--bandwidth", string output, string rounds] => BandwidthCeiling.Report(output, int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), ["small", "glm-edge-1.5b"]),
    ["--bandwidth", .. string[] rest] => BandwidthCeiling.Report(rest.FirstOrDefault(), rounds: 5, ["small", "glm-edge-1.5b"]),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchmarkModels).Assembly).Run(args);
    return 0;
}
