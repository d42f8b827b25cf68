namespace AutoGlm.ModelBuilder;

/// <summary>A hidden sibling folder where output is assembled, then renamed into place in one step.</summary>
internal static class StagingDirectory
{
    public static string Create(string target)
    {
        string parent = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, "." + Path.GetFileName(target) + ".partial-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(staging);
        return staging;
    }

    public static void Commit(string staging, string target)
    {
        if (Directory.Exists(target))
        {
            // Only an empty folder can be here (checked before the work started).
            Directory.Delete(target);
        }

        Directory.Move(staging, target);
    }

    public static void TryDelete(string staging)
    {
        try
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
