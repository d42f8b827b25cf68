using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>One normalization step; only the fields its <see cref="Kind"/> names are used.</summary>
/// <param name="Kind">What the step does.</param>
/// <param name="Form">The Unicode normalization form (<see cref="TextNormalizerKind.Form"/>).</param>
/// <param name="Text">The text prepended, or the literal replaced (<see cref="TextNormalizerKind.Prepend"/>, <see cref="TextNormalizerKind.Replace"/>).</param>
/// <param name="Replacement">What replaces <paramref name="Text"/>.</param>
/// <param name="PrependScheme">When the Metaspace pre-tokenizer prepends ▁.</param>
/// <param name="AddDummyPrefix">SentencePiece: whether a space is prepended.</param>
/// <param name="RemoveExtraWhitespaces">SentencePiece: whether leading, trailing and repeated spaces are dropped.</param>
/// <param name="EscapeWhitespaces">SentencePiece: whether spaces are written as ▁.</param>
/// <param name="CharsMap">SentencePiece: the normalization rules (such as <c>nmt_nfkc</c>), or null for the identity.</param>
/// <remarks>Immutable.</remarks>
internal readonly record struct TextNormalizerStep(
    TextNormalizerKind Kind,
    NormalizationForm Form = NormalizationForm.FormC,
    string Text = "",
    string Replacement = "",
    MetaspacePrependScheme PrependScheme = MetaspacePrependScheme.Always,
    bool AddDummyPrefix = true,
    bool RemoveExtraWhitespaces = true,
    bool EscapeWhitespaces = true,
    PrecompiledCharsMap? CharsMap = null);
