namespace AutoGlm.Benchmarks;

/// <summary>Deterministic prompt token ids for the benchmarks: different per request, the same in every run.</summary>
internal static class BenchmarkPrompts
{
    public static int[] Create(int vocabularySize, int length, int request)
    {
        // Stay clear of the top of the vocabulary, where the special tokens live.
        int range = Math.Max(1, vocabularySize - 1024);
        var ids = new int[length];
        for (int i = 0; i < length; i++)
        {
            ids[i] = (int)(((i * 7919L) + (request * 104729L) + 17) % range);
        }

        return ids;
    }
}
