using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

public sealed class IncrementalDecoderTests : IClassFixture<Llama3ReferenceFixture>
{
    private const string ChineseAndEmoji = "你好，世界！😀👍🏽 人工智能🇨🇳 emoji 👨‍👩‍👧‍👦 和 𠀀 字。";
    private readonly Llama3ReferenceFixture _fixture;

    public IncrementalDecoderTests(Llama3ReferenceFixture fixture) => _fixture = fixture;

    [NodeFact]
    public void Append_EveryPrefixOfChineseAndEmoji_YieldsExactTextWithoutReplacementCharacters()
    {
        Tokenizer tokenizer = _fixture.Tokenizer;
        int[] ids = [.. tokenizer.Encode(ChineseAndEmoji)];

        // The text must really split characters across tokens, or this test proves nothing.
        Assert.Contains(ids, id => tokenizer.Decode([id]).Contains('\uFFFD', StringComparison.Ordinal));

        for (int length = 1; length <= ids.Length; length++)
        {
            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();
            string streamed = "";
            for (int i = 0; i < length; i++)
            {
                string piece = decoder.Append(ids[i]).ToString();
                Assert.DoesNotContain('\uFFFD', piece);
                streamed += piece;
            }

            // What was released is exactly the longest complete prefix; the held-back bytes complete it.
            string full = tokenizer.Decode(ids.AsSpan(0, length));
            Assert.Equal(full.TrimEnd('\uFFFD'), streamed);
            Assert.True(decoder.PendingByteCount < 4);
            Assert.Equal(full, streamed + decoder.Flush().ToString());
            Assert.Equal(0, decoder.PendingByteCount);
        }
    }

    [NodeFact]
    public void Append_WholeCorpus_ConcatenatesToTheDecodedText()
    {
        Tokenizer tokenizer = _fixture.Tokenizer;
        foreach (string text in ParityCorpus.Texts)
        {
            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();
            var streamed = new System.Text.StringBuilder();
            foreach (int id in tokenizer.Encode(text))
            {
                streamed.Append(decoder.Append(id));
            }

            streamed.Append(decoder.Flush());
            Assert.Equal(text, streamed.ToString());
        }
    }

    [NodeFact]
    public void Append_SkipSpecialTokens_LeavesThemOut()
    {
        Tokenizer tokenizer = _fixture.Tokenizer;
        IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder(skipSpecialTokens: true);
        string streamed = "";
        foreach (int id in tokenizer.Encode("<|begin_of_text|>Hi<|eot_id|> there"))
        {
            streamed += decoder.Append(id).ToString();
        }

        Assert.Equal("Hi there", streamed + decoder.Flush().ToString());
    }

    [NodeFact]
    public void Append_UnknownId_ThrowsTokenizerException()
    {
        IncrementalDecoder decoder = _fixture.Tokenizer.CreateIncrementalDecoder();

        var e = Assert.Throws<TokenizerException>(() => decoder.Append(1_000_000));

        Assert.StartsWith("Token id 1000000 (at position 0) is not in the vocabulary of '", e.Message, StringComparison.Ordinal);
    }

    [NodeFact]
    public void Append_SteadyState_AllocatesNothing()
    {
        Tokenizer tokenizer = _fixture.Tokenizer;
        int[] ids = [.. tokenizer.Encode(string.Concat(Enumerable.Repeat(ChineseAndEmoji, 20)))];
        IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();
        foreach (int id in ids)
        {
            decoder.Append(id);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int chars = 0;
        foreach (int id in ids)
        {
            chars += decoder.Append(id).Length;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(chars > 0);
        Assert.Equal(0, allocated);
    }
}
