namespace AutoGlm.Tokenization;

/// <summary>When the Metaspace pre-tokenizer prepends ▁.</summary>
internal enum MetaspacePrependScheme
{
    Always,
    First,
    Never,
}
