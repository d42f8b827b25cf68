using System.Diagnostics;
using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

public sealed class TokenizerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-tok-{Guid.NewGuid():N}");
    private readonly Lazy<Tokenizer> _tiny;

    public TokenizerTests()
    {
        _tiny = new(() => Tokenizer.Load(TokenizerTestFiles.Write(_folder, "tokenizer.json", TokenizerTestFiles.CreateTinyTokenizerJson().ToJsonString())));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void Encode_TinyVocabulary_MergesAndMatchesSpecialTokens()
    {
        Tokenizer tokenizer = _tiny.Value;

        // "hello" merges fully, " wo" merges to "Ġwo", "rld" stays bytes; the specials are matched before splitting.
        Assert.Equal([300, 301, 302, 10, 259, 261, 114, 108, 100, 303], tokenizer.Encode("[gMASK]<sop><|user|>\nhello world<|assistant|>"));
        Assert.Equal("[gMASK]<sop><|user|>\nhello world<|assistant|>", tokenizer.Decode([300, 301, 302, 10, 259, 261, 114, 108, 100, 303]));
        Assert.Equal("\nhello world", tokenizer.Decode([300, 301, 302, 10, 259, 261, 114, 108, 100, 303], skipSpecialTokens: true));
    }

    [Fact]
    public void Encode_SpecialParsingOff_EncodesSpecialTokensAsTextButKeepsPlainAddedTokens()
    {
        Tokenizer tokenizer = _tiny.Value;

        IReadOnlyList<int> ids = tokenizer.Encode("<|user|><think>", parseSpecialTokens: false);

        Assert.Equal([(int)'<', (int)'|', (int)'u', (int)'s', (int)'e', (int)'r', (int)'|', (int)'>', 304], ids);
    }

    [Fact]
    public void Lookups_TinyVocabulary_AreConsistent()
    {
        Tokenizer tokenizer = _tiny.Value;

        Assert.Equal(305, tokenizer.VocabularySize);
        Assert.Equal(259, tokenizer.TokenToId("hello"));
        Assert.Equal(261, tokenizer.TokenToId("Ġwo"));
        Assert.Equal(302, tokenizer.TokenToId("<|user|>"));
        Assert.Null(tokenizer.TokenToId("nope"));
        Assert.Equal("Ġwo", tokenizer.IdToToken(261));
        Assert.Equal("<think>", tokenizer.IdToToken(304));
        Assert.Null(tokenizer.IdToToken(299));
        Assert.Null(tokenizer.IdToToken(-1));
        Assert.True(tokenizer.IsSpecial(300));
        Assert.False(tokenizer.IsSpecial(304));
        Assert.False(tokenizer.IsSpecial(259));
        Assert.False(tokenizer.IsSpecial(100_000));
    }

    [Fact]
    public void Decode_UnknownId_ThrowsTokenizerExceptionNamingIdAndPosition()
    {
        var e = Assert.Throws<TokenizerException>(() => _tiny.Value.Decode([259, 299]));

        Assert.StartsWith("Token id 299 (at position 1) is not in the vocabulary of '", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("whose ids run from 0 to 304; the ids must come from this tokenizer.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_DestinationTooShort_ThrowsWithTheLengthNeeded()
    {
        var e = Assert.Throws<ArgumentException>(() => _tiny.Value.Encode("hello world", new int[2].AsSpan()));

        Assert.StartsWith("The destination holds 2 ids but the text encodes to 5; pass a buffer of at least 5.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_LoneSurrogates_EncodeAsReplacementCharacter()
    {
        Tokenizer tokenizer = _tiny.Value;

        IReadOnlyList<int> ids = tokenizer.Encode("a\uD800b\uDC00");

        // U+FFFD is EF BF BD in UTF-8; byte tokens have ids equal to the byte.
        Assert.Equal([97, 0xEF, 0xBF, 0xBD, 98, 0xEF, 0xBF, 0xBD], ids);
        Assert.Equal("a\uFFFDb\uFFFD", tokenizer.Decode([.. ids]));
    }

    [Fact]
    public void Encode_TenMegabytesOfUntrustedText_EncodesAndRoundTrips()
    {
        Tokenizer tokenizer = _tiny.Value;
        var random = new Random(7);
        string[] pieces = [.. ParityCorpus.Texts.Take(35), "\uD800x", "y\uDFFF", "<|user|>", "[gMASK]<sop", "\0\u0001\u007F"];
        var text = new System.Text.StringBuilder(10 * 1024 * 1024 + 1024);
        while (text.Length < 10 * 1024 * 1024)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        string input = text.ToString();
        var stopwatch = Stopwatch.StartNew();
        int[] ids = [.. tokenizer.Encode(input)];
        string decoded = tokenizer.Decode(ids);
        stopwatch.Stop();

        // Lone surrogates (never adjacent here) come back as U+FFFD; everything else comes back exactly.
        Assert.Equal(input.Replace("\uD800", "\uFFFD", StringComparison.Ordinal).Replace("\uDFFF", "\uFFFD", StringComparison.Ordinal), decoded);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData("l")]
    [InlineData(" ")]
    [InlineData("中")]
    [InlineData("ab")]
    [InlineData("😀")]
    [InlineData("1")]
    public void Encode_LongRuns_DoNotBlowUpQuadratically(string unit)
    {
        Tokenizer tokenizer = _tiny.Value;
        string large = string.Concat(Enumerable.Repeat(unit, 160_000));

        // A guard against a quadratic pre-tokenizer or merge loop, not a speed claim: linear work on 160k
        // characters takes milliseconds, O(n^2) takes minutes. (A small/large time ratio was flaky on a busy
        // machine; speed lives in the benchmarks.)
        var stopwatch = Stopwatch.StartNew();
        int count = tokenizer.CountTokens(large);
        stopwatch.Stop();

        Assert.InRange(count, 1, large.Length * 4);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"160k: {stopwatch.Elapsed}");
    }

    [Fact]
    public void Encode_ConcurrentCallers_GetTheSameIdsAsSequential()
    {
        Tokenizer tokenizer = Tokenizer.Load(TokenizerTestFiles.Write(_folder, "concurrent.json", TokenizerTestFiles.CreateTinyTokenizerJson().ToJsonString()));
        string[] texts = [.. Enumerable.Range(0, 64).Select(i => $"hello {i} world {new string('l', i)} 你好 <|user|>")];
        int[][] sequential = [.. texts.Select(t => tokenizer.Encode(t).ToArray())];
        var parallel = new int[texts.Length][];

        Parallel.For(0, texts.Length * 20, i => parallel[i % texts.Length] = [.. tokenizer.Encode(texts[i % texts.Length])]);

        Assert.Equal(sequential, parallel);
    }
}
