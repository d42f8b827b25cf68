namespace AutoGlm.Tokenization;

/// <summary>What a <see cref="TextNormalizerStep"/> does.</summary>
internal enum TextNormalizerKind
{
    Form,
    Lowercase,
    Prepend,
    Replace,
    Metaspace,
    SentencePiece,
}
