using AutoGlm.Tokenization;

namespace AutoGlm.Generation;

/// <summary>
/// The scheduler's view of a tokenizer: one incremental decoder per sequence. Special tokens produce no text,
/// and so do ids the model can emit but the tokenizer does not define (GLM-4's embedding rows past the
/// tokenizer's last id, for example) — generation never fails on what the model chose.
/// </summary>
internal sealed class TokenizerTextDecoder : ITokenTextDecoder
{
    private readonly Tokenizer _tokenizer;

    public TokenizerTextDecoder(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer;
    }

    public Constraints.ConstraintVocabulary? ConstraintVocabulary => Constraints.ConstraintVocabulary.For(_tokenizer);

    public ITokenTextStream CreateStream() => new Stream(_tokenizer.CreateIncrementalDecoder(skipSpecialTokens: true), _tokenizer);

    private sealed class Stream : ITokenTextStream
    {
        private readonly IncrementalDecoder _decoder;
        private readonly Tokenizer _tokenizer;

        public Stream(IncrementalDecoder decoder, Tokenizer tokenizer)
        {
            _decoder = decoder;
            _tokenizer = tokenizer;
        }

        public string Append(int tokenId)
        {
            if (_tokenizer.IdToToken(tokenId) is null)
            {
                return string.Empty;
            }

            ReadOnlySpan<char> text = _decoder.Append(tokenId);
            return text.IsEmpty ? string.Empty : new string(text);
        }

        public string Flush()
        {
            ReadOnlySpan<char> text = _decoder.Flush();
            return text.IsEmpty ? string.Empty : new string(text);
        }
    }
}
