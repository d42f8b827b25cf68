using System.CommandLine;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using AutoGlm.Execution;

namespace AutoGlm.Cli;

/// <summary><c>autoglm doctor</c>: what this machine can run, and why not.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        Option<bool> json = CliOptions.Flag("--json", "Print the report as one JSON object.");
        var command = new Command("doctor", "Show the ONNX Runtime in use (version, path), the execution providers and why each is unavailable, and the CPU; exits 1 when no provider is usable.") { json };
        command.SetAction(parse => Run(parse.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {

        string cpu = CpuModel();
        string[] features = SimdFeatures();
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

        string version;
        string path;
        IReadOnlyList<string> compiledIn;
        try
        {
            version = OnnxRuntimeInfo.Version;
            path = OnnxRuntimeInfo.LibraryPath;
            compiledIn = OnnxRuntimeInfo.GetAvailableProviders();
        }
        catch (OnnxRuntimeLoadException ex)
        {
            Console.Error.WriteLine($"autoglm doctor: {CliFailure.OneLine(ex.Message)}");
            return ExitCodes.Failed;
        }

        var providers = new List<(string Name, string? Reason)>();
        foreach (ExecutionProvider provider in new[] { ExecutionProvider.Cpu, ExecutionProvider.Cuda(), ExecutionProvider.DirectML() })
        {
            providers.Add((provider.Name, OnnxRuntimeInfo.GetUnavailableReason(provider)));
        }

        ExecutionProviderSelection auto = OnnxRuntimeInfo.Resolve(ExecutionProvider.Auto);
        IReadOnlyList<CudaCheckResult> cuda = CudaEnvironmentCheck.Run(new CudaProbe(), Path.GetDirectoryName(path) ?? ".", compiledIn);
        bool usable = providers.Any(p => p.Reason is null);

        if (json)
        {
            var report = new Dictionary<string, object?>
            {
                ["onnxruntime_version"] = version,
                ["onnxruntime_path"] = path,
                ["compiled_in_providers"] = compiledIn,
                ["providers"] = providers.Select(p => new Dictionary<string, object?> { ["name"] = p.Name, ["available"] = p.Reason is null, ["reason"] = p.Reason }).ToArray(),
                ["auto_selects"] = auto.Selected.Name,
                ["cuda_checks"] = cuda.Select(c => new Dictionary<string, object?> { ["name"] = c.Name, ["ok"] = c.Ok, ["detail"] = c.Detail, ["fix"] = c.Fix }).ToArray(),
                ["cpu"] = cpu,
                ["cpu_features"] = features,
                ["logical_cores"] = Environment.ProcessorCount,
                ["memory_bytes"] = memory,
                ["os"] = RuntimeInformation.OSDescription,
                ["dotnet"] = RuntimeInformation.FrameworkDescription,
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return usable ? ExitCodes.Ok : ExitCodes.Failed;
        }

        Console.Out.WriteLine($"ONNX Runtime  {version}");
        Console.Out.WriteLine($"  loaded from {path}");
        Console.Out.WriteLine($"  built with  {string.Join(", ", compiledIn)}");
        Console.Out.WriteLine("Execution providers");
        foreach ((string name, string? reason) in providers)
        {
            Console.Out.WriteLine(reason is null ? $"  {name,-9} available" : $"  {name,-9} unavailable: {reason}");
        }

        Console.Out.WriteLine($"  Auto      selects {auto.Selected.Name}");
        Console.Out.WriteLine("CUDA environment");
        foreach (CudaCheckResult check in cuda)
        {
            Console.Out.WriteLine(check.Ok ? $"  ok    {check.Name}: {check.Detail}" : $"  FAIL  {check.Name}: {check.Detail} — fix: {check.Fix}");
        }

        Console.Out.WriteLine("Machine");
        Console.Out.WriteLine($"  CPU       {cpu}");
        Console.Out.WriteLine($"  SIMD      {(features.Length == 0 ? "none detected" : string.Join(" ", features))}");
        Console.Out.WriteLine($"  cores     {Environment.ProcessorCount} logical");
        Console.Out.WriteLine($"  memory    {memory / (1024.0 * 1024 * 1024):F1} GiB");
        Console.Out.WriteLine($"  OS        {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        return usable ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                    {
                        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string[] SimdFeatures()
    {
        var features = new List<string>();
        if (Sse42.IsSupported) features.Add("SSE4.2");
        if (Avx.IsSupported) features.Add("AVX");
        if (Avx2.IsSupported) features.Add("AVX2");
        if (Fma.IsSupported) features.Add("FMA");
        if (Avx512F.IsSupported) features.Add("AVX-512F");
        if (Avx512BW.IsSupported) features.Add("AVX-512BW");
        if (Avx512Vbmi.IsSupported) features.Add("AVX-512VBMI");
        if (AvxVnni.IsSupported) features.Add("AVX-VNNI");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) features.Add("NEON");
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) features.Add("DOTPROD");
        return features.ToArray();
    }
}
