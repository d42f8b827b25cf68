using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

public sealed class MalformedTokenizerFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-bad-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void Load_TruncatedJson_NamesFileLineAndByte()
    {
        string json = TokenizerTestFiles.CreateTinyTokenizerJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json[..(json.Length / 2)]);
        int lines = json[..(json.Length / 2)].Count(c => c == '\n') + 1;

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.StartsWith($"The tokenizer file '{path}' is not valid JSON at line {lines}, byte ", e.Message, StringComparison.Ordinal);
        Assert.Contains("it may be truncated or damaged. Download it again.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownModelType_NamesComponentAndFile()
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        json["model"]!["type"] = "Unigram";
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(_folder));

        Assert.Equal($"The tokenizer file '{path}' uses 'Unigram' at 'model.type', which AutoGlm does not support (supported: BPE). Use a BPE tokenizer.json (byte-level or SentencePiece-style), a tiktoken tokenizer.model or a SentencePiece BPE tokenizer.model.", e.Message);
    }

    [Fact]
    public void Load_UnsupportedPreTokenizer_NamesComponentPath()
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        json["pre_tokenizer"]!["pretokenizers"]!.AsArray().Insert(0, new JsonObject { ["type"] = "Whitespace" });
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' uses 'Whitespace' at 'pre_tokenizer.pretokenizers[0].type', which AutoGlm does not support (supported: Split, ByteLevel, Metaspace, Digits, Sequence). Use a BPE tokenizer.json (byte-level or SentencePiece-style), a tiktoken tokenizer.model or a SentencePiece BPE tokenizer.model.", e.Message);
    }

    [Fact]
    public void Load_MergeWithUnknownToken_NamesMergeIndex()
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        json["model"]!["merges"]!.AsArray().Add("x zz");
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' is invalid at 'model.merges[6]': it merges 'x' and 'zz', but a token it needs is not in model.vocab. Check that the file is complete and comes from a supported tokenizer.", e.Message);
    }

    /// <summary>A minimal SentencePiece ModelProto: an unknown piece, a byte piece, "a", and a trainer_spec with <paramref name="modelType"/>.</summary>
    private byte[] SentencePieceModel(int modelType, byte[]? normalizer = null)
    {
        Directory.CreateDirectory(_folder);
        var bytes = new List<byte>();
        void Piece(string text, int type)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            byte[] piece = [0x0A, (byte)utf8.Length, .. utf8, 0x15, 0, 0, 0, 0, 0x18, (byte)type];
            bytes.AddRange([0x0A, (byte)piece.Length, .. piece]);
        }

        Piece("<unk>", 2);
        Piece("<0x41>", 6);
        Piece("a", 1);
        bytes.AddRange([0x12, 0x05, 0x18, (byte)modelType, 0x98, 0x02, 0x01]); // trainer_spec { model_type, byte_fallback (field 35) = true }
        if (normalizer is not null)
        {
            bytes.AddRange([0x1A, (byte)normalizer.Length, .. normalizer]);
        }

        return [.. bytes];
    }

    [Fact]
    public void Load_SentencePieceBpeModel_EncodesWithByteFallback()
    {
        string path = Path.Combine(_folder, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModel(modelType: 2));

        Tokenizer tokenizer = Tokenizer.Load(path);

        // "▁" is not a piece, so the dummy prefix falls back to bytes: only 'A' (0x41) has a byte piece, so ▁'s three
        // bytes are unknown (id 0); "a" is a piece.
        Assert.Equal([0, 2, 1], tokenizer.Encode("aA", parseSpecialTokens: false));
    }

    [Theory]
    [InlineData(1, "UNIGRAM")]
    [InlineData(3, "WORD")]
    [InlineData(4, "CHAR")]
    public void Load_SentencePieceModelOfUnsupportedType_NamesTypeAndFix(int modelType, string name)
    {
        string path = Path.Combine(_folder, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModel(modelType));

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(_folder));

        Assert.Equal($"The tokenizer file '{path}' is a SentencePiece model with {name} at 'trainer_spec.model_type', which AutoGlm does not support (supported: BPE, the type ChatGLM3 ships). Use the model's tokenizer.json if it has one, or a SentencePiece BPE model.", e.Message);
    }

    [Fact]
    public void Load_SentencePieceModelWithDamagedNormalizationRules_NamesRuleAndFix()
    {
        string path = Path.Combine(_folder, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModel(2, [0x0A, 0x08, .. "nmt_nfkc"u8.ToArray(), 0x12, 0x02, 0x01, 0x02]));

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' has a damaged normalization rule set 'nmt_nfkc' (normalizer_spec.precompiled_charsmap of 2 bytes). Download tokenizer.model again.", e.Message);
    }

    [Fact]
    public void Load_TruncatedSentencePieceModel_SaysDamagedAndHowToFix()
    {
        byte[] model = SentencePieceModel(2);
        string path = Path.Combine(_folder, "tokenizer.model");
        File.WriteAllBytes(path, model[..20]);

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' is not a valid SentencePiece model: it has a field of 15 bytes at byte 18 that runs past the end of the data (2 bytes left). The file is truncated or damaged, or not a SentencePiece tokenizer.model; download it again.", e.Message);
    }

    [Fact]
    public void Load_RankFileWithBadLine_NamesFileAndLine()
    {
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.model", "IQ== 0\nIg== 1\nnot-base64! 2\n");

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' has a bad line 3: expected '<base64 token> <rank>' but found 'not-base64! 2'. A tiktoken tokenizer.model has one such pair per line (a SentencePiece tokenizer.model is binary and read as such).", e.Message);
    }

    [Fact]
    public void Load_RankFileWithMissingRank_NamesFileAndLine()
    {
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.model", "IQ== 0\nIg==\n");

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.StartsWith($"The tokenizer file '{path}' has a bad line 2: expected '<base64 token> <rank>' but found 'Ig=='.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FolderWithoutTokenizer_SaysWhatIsMissing()
    {
        Directory.CreateDirectory(_folder);

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(_folder));

        Assert.Equal($"The folder '{_folder}' has neither tokenizer.json nor tokenizer.model; copy the model's tokenizer files into it.", e.Message);
    }

    [Fact]
    public void Load_MissingPath_SaysItDoesNotExist()
    {
        string path = Path.Combine(_folder, "nope.json");

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer path '{path}' does not exist; pass a model folder, a tokenizer.json or a tokenizer.model.", e.Message);
    }
}
