namespace AutoGlm.Tokenization;

/// <summary>A token matched in the text before pre-tokenization (a special token such as <c>&lt;|user|&gt;</c>, or a plain added token).</summary>
/// <param name="Id">Its id.</param>
/// <param name="Content">The text it stands for.</param>
/// <param name="IsSpecial">Whether it is a control token (skipped by decoding with skipSpecialTokens, not matched when special-token parsing is off).</param>
/// <param name="StripLeft">Whether white space before it is absorbed.</param>
/// <param name="StripRight">Whether white space after it is absorbed.</param>
/// <param name="SingleWord">Whether it only matches as a whole word.</param>
/// <param name="Normalized">Whether it is matched in the normalized text rather than the raw text.</param>
internal sealed record AddedToken(int Id, string Content, bool IsSpecial, bool StripLeft, bool StripRight, bool SingleWord, bool Normalized);
