using AutoGlm.Benchmarks;
using BenchmarkDotNet.Running;

// Besides the BenchmarkDotNet switcher, three harnesses that need fresh processes or whole-run counters:
//   --load-memory [OUT.md]             resident memory, mapped vs read weights (children: --load-probe FOLDER true|false)
//   --runtime-memory [OUT.md]          bytes allocated per decoded token; KV bytes against tokens in flight
//   --interleaved [OUT.md [decode]]    decode and concurrency comparisons with the contenders run in turns
return args switch
{
    ["--load-probe", string folder, string map] => LoadMemoryProbe.Probe(folder, bool.Parse(map)),
    ["--load-memory", .. string[] rest] => LoadMemoryProbe.Report(rest.FirstOrDefault()),
    ["--runtime-memory", .. string[] rest] => RuntimeMemoryProbe.Report(rest.FirstOrDefault()),
    ["--interleaved", string output, "decode"] => InterleavedRuns.Report(output, decodeOnly: true),
    ["--interleaved", .. string[] rest] => InterleavedRuns.Report(rest.FirstOrDefault()),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchmarkModels).Assembly).Run(args);
    return 0;
}
