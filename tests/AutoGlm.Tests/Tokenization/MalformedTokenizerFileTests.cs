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

        Assert.Equal($"The tokenizer file '{path}' uses 'Unigram' at 'model.type', which AutoGlm does not support (supported: BPE). Use a byte-level BPE tokenizer.json or a tiktoken tokenizer.model.", e.Message);
    }

    [Fact]
    public void Load_UnsupportedPreTokenizer_NamesComponentPath()
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        json["pre_tokenizer"]!["pretokenizers"]!.AsArray().Insert(0, new JsonObject { ["type"] = "Metaspace" });
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' uses 'Metaspace' at 'pre_tokenizer.pretokenizers[0].type', which AutoGlm does not support (supported: Split, ByteLevel, Digits, Sequence). Use a byte-level BPE tokenizer.json or a tiktoken tokenizer.model.", e.Message);
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

    [Fact]
    public void Load_RankFileWithBadLine_NamesFileAndLine()
    {
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.model", "IQ== 0\nIg== 1\nnot-base64! 2\n");

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Equal($"The tokenizer file '{path}' has a bad line 3: expected '<base64 token> <rank>' but found 'not-base64! 2'. A tiktoken tokenizer.model has one such pair per line; a SentencePiece tokenizer.model (ChatGLM3, binary) is not supported.", e.Message);
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
