using System.Globalization;

namespace AutoGlm.Benchmarks;

/// <summary>This process's memory as Linux reports it in <c>/proc/self/status</c>, in KiB.</summary>
internal sealed record ProcessMemory(long VmRssKiB, long VmHwmKiB, long RssAnonKiB, long RssFileKiB)
{
    public static ProcessMemory Read()
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.EndsWith(" kB", StringComparison.Ordinal))
            {
                fields[line[..colon]] = long.Parse(line[(colon + 1)..^3].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return new ProcessMemory(fields["VmRSS"], fields["VmHWM"], fields["RssAnon"], fields["RssFile"]);
    }
}
