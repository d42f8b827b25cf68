using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

/// <summary>Maps each token id to a fixed piece of text (by default <c>&lt;id&gt;</c>).</summary>
internal sealed class FakeTextDecoder(Func<int, string>? text = null) : ITokenTextDecoder
{
    private readonly Func<int, string> _text = text ?? (id => $"<{id}>");

    public ITokenTextStream CreateStream() => new Stream(_text);

    private sealed class Stream(Func<int, string> text) : ITokenTextStream
    {
        public string Append(int tokenId) => text(tokenId);

        public string Flush() => string.Empty;
    }
}
