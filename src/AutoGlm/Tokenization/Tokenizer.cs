using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// A BPE tokenizer read from a model folder: a Hugging Face <c>tokenizer.json</c> in byte-level form (GLM-4-hf,
/// GLM-Edge, GLM-4-0414, Llama-3, Qwen) or in SentencePiece form (Metaspace / <c>byte_fallback</c>: Llama-2,
/// Gemma), GLM-4's tiktoken <c>tokenizer.model</c>, or ChatGLM3's SentencePiece <c>tokenizer.model</c> (BPE with
/// byte fallback), each with its <c>tokenizer_config.json</c>. It gives the same ids as the model's own tokenizer.
/// </summary>
/// <remarks>
/// Thread-safe: every member may be called concurrently. Pre-tokens seen before are served from a bounded
/// cache, so repeated words do not run BPE again.
/// </remarks>
public sealed class Tokenizer : ITokenizer
{
    /// <summary>The file name of a Hugging Face tokenizer.</summary>
    public const string TokenizerJsonFileName = "tokenizer.json";

    /// <summary>The file name of a tiktoken rank file or a SentencePiece model.</summary>
    public const string TiktokenFileName = "tokenizer.model";

    /// <summary>The file name of the tokenizer configuration (special tokens, chat template).</summary>
    public const string ConfigFileName = "tokenizer_config.json";

    [ThreadStatic]
    private static List<(int Start, int Length)>? t_pieces;

    [ThreadStatic]
    private static List<(int Start, int Length)>? t_scratch;

    private readonly BytePairModel _model;
    private readonly Dictionary<string, int> _modelVocabulary;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly TextNormalizer? _normalizer;
    private readonly TextSplitter[] _splitters;
    private readonly bool _addPrefixSpace;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _rawMatcherWithoutSpecial;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly AddedTokenMatcher _normalizedMatcherWithoutSpecial;
    private readonly string?[] _tokens;
    private readonly byte[]?[] _tokenBytes;
    private readonly bool[] _isSpecial;
    private readonly bool[] _isAdded;
    private readonly bool[]? _isByteToken;
    private readonly SentencePieceDecoding? _sentencePiece;

    internal Tokenizer(
        string source,
        BytePairModel model,
        Dictionary<string, int> modelVocabulary,
        IReadOnlyList<AddedToken> addedTokens,
        TextNormalizer? normalizer,
        TextSplitter[] splitters,
        bool addPrefixSpace,
        bool addedTokensAreByteLevel,
        SentencePieceDecoding? sentencePiece = null)
    {
        Source = source;
        _sentencePiece = sentencePiece;
        _model = model;
        _modelVocabulary = modelVocabulary;
        _normalizer = normalizer;
        _splitters = splitters;
        _addPrefixSpace = addPrefixSpace;

        int size = CheckIds(source, modelVocabulary, addedTokens);

        _tokens = new string?[size];
        _tokenBytes = new byte[]?[size];
        _isSpecial = new bool[size];
        _isAdded = new bool[size];
        foreach ((string token, int id) in modelVocabulary)
        {
            _tokens[id] = token;
            _tokenBytes[id] = sentencePiece is not null ? sentencePiece.TokenBytes(token, id)
                : ByteLevelAlphabet.TryToBytes(token, out byte[] bytes) ? bytes : Encoding.UTF8.GetBytes(token);
            _isSpecial[id] = sentencePiece?.SpecialIds.Contains(id) == true;
            if (sentencePiece is { ByteFallback: true, PerCharacterByteRepair: true } && SentencePieceDecoding.TryParseByteToken(token, out _))
            {
                (_isByteToken ??= new bool[size])[id] = true;
            }
        }

        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (AddedToken token in addedTokens)
        {
            _tokens[token.Id] = token.Content;
            _isSpecial[token.Id] = token.IsSpecial;
            _isAdded[token.Id] = true;
            _addedByContent[token.Content] = token.Id;

            // The Hugging Face ByteLevel decoder maps an added token's characters through the byte alphabet when
            // it can (ASCII punctuation and letters stand for themselves) and uses its UTF-8 otherwise.
            _tokenBytes[token.Id] = sentencePiece is not null ? SentencePieceDecoding.AddedTokenBytes(token.Content)
                : addedTokensAreByteLevel && ByteLevelAlphabet.TryToBytes(token.Content, out byte[] bytes) ? bytes
                : Encoding.UTF8.GetBytes(token.Content);
        }

        AddedToken[] raw = [.. addedTokens.Where(t => !t.Normalized || normalizer is null)];
        AddedToken[] normalized = [.. addedTokens.Where(t => t.Normalized && normalizer is not null)];
        _rawMatcher = new AddedTokenMatcher(raw);
        _rawMatcherWithoutSpecial = new AddedTokenMatcher(raw.Where(t => !t.IsSpecial));
        _normalizedMatcher = new AddedTokenMatcher(normalized);
        _normalizedMatcherWithoutSpecial = new AddedTokenMatcher(normalized.Where(t => !t.IsSpecial));
        AddedTokenCount = addedTokens.Count;
    }

    /// <summary>
    /// Checks every token id before the id-indexed tables are allocated: a vocabulary that is not empty, ids below
    /// <see cref="Models.ModelLimits.MaxVocabularySize"/>, no id given to two vocabulary tokens or to two different added tokens.
    /// </summary>
    /// <returns>The table size: one more than the largest id.</returns>
    private static int CheckIds(string source, Dictionary<string, int> modelVocabulary, IReadOnlyList<AddedToken> addedTokens)
    {
        const int Max = Models.ModelLimits.MaxVocabularySize;
        if (modelVocabulary.Count == 0)
        {
            throw new TokenizerException($"The tokenizer file '{source}' has an empty vocabulary (model.vocab or the rank list holds no token), so no text can be encoded. The file is truncated or damaged; download it again.");
        }

        int size = 0;
        var owners = new Dictionary<int, string>(modelVocabulary.Count);
        foreach ((string token, int id) in modelVocabulary)
        {
            if (id is < 0 or >= Max)
            {
                throw new TokenizerException($"The tokenizer file '{source}' gives the token '{Shorten(token)}' the id {id}; ids must be between 0 and {Max - 1}. The file is damaged; download it again.");
            }

            if (!owners.TryAdd(id, token))
            {
                throw new TokenizerException($"The tokenizer file '{source}' gives the id {id} to two tokens, '{Shorten(owners[id])}' and '{Shorten(token)}'; every vocabulary id must be unique. The file is damaged; download it again.");
            }

            size = Math.Max(size, id + 1);
        }

        var added = new Dictionary<int, string>(addedTokens.Count);
        foreach (AddedToken token in addedTokens)
        {
            if (token.Id is < 0 or >= Max)
            {
                throw new TokenizerException($"The tokenizer file '{source}' gives the added token '{Shorten(token.Content)}' the id {token.Id}; ids must be between 0 and {Max - 1}. Fix added_tokens (or added_tokens_decoder) or download the file again.");
            }

            if (token.Content.Length == 0)
            {
                throw new TokenizerException($"The tokenizer file '{source}' has an added token with id {token.Id} and empty content; remove it or give it text.");
            }

            if (added.TryGetValue(token.Id, out string? other) && !string.Equals(other, token.Content, StringComparison.Ordinal))
            {
                throw new TokenizerException($"The tokenizer file '{source}' gives the id {token.Id} to two added tokens, '{Shorten(other)}' and '{Shorten(token.Content)}'; every added-token id must be unique. Fix added_tokens or download the file again.");
            }

            added[token.Id] = token.Content;
            size = Math.Max(size, token.Id + 1);
        }

        return size;
    }

    private static string Shorten(string token) => token.Length > 40 ? string.Concat(token.AsSpan(0, 40), "…") : token;

    /// <summary>The file the tokenizer was read from.</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public int VocabularySize => _tokens.Length;

    /// <summary>Whether this is ChatGLM3's SentencePiece tokenizer with its special tokens (<c>[gMASK]</c>, <c>sop</c>, <c>&lt;|user|&gt;</c> …) after the SentencePiece vocabulary.</summary>
    internal bool IsChatGlm3 => _sentencePiece?.ChatGlm3 == true;

    /// <summary>The number of added (special or plain) tokens.</summary>
    public int AddedTokenCount { get; }

    /// <summary>
    /// Reads the tokenizer of a model folder, or a tokenizer file. In a folder, <c>tokenizer.json</c> is
    /// preferred; otherwise <c>tokenizer.model</c> is read: tiktoken ranks with the special tokens listed in
    /// <c>tokenizer_config.json</c> (GLM-4's defaults when that file has none), or a SentencePiece BPE model
    /// followed by ChatGLM3's special tokens.
    /// </summary>
    /// <param name="modelFolderOrFile">A model folder, a <c>tokenizer.json</c>, or a <c>tokenizer.model</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="TokenizerException">No tokenizer file was found, a file is malformed, or it uses a component AutoGlm does not support.</exception>
    public static Tokenizer Load(string modelFolderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelFolderOrFile);
        string file = modelFolderOrFile;
        if (Directory.Exists(modelFolderOrFile))
        {
            string json = Path.Combine(modelFolderOrFile, TokenizerJsonFileName);
            string model = Path.Combine(modelFolderOrFile, TiktokenFileName);
            file = File.Exists(json) ? json
                : File.Exists(model) ? model
                : throw new TokenizerException($"The folder '{modelFolderOrFile}' has neither {TokenizerJsonFileName} nor {TiktokenFileName}; copy the model's tokenizer files into it.");
        }
        else if (!File.Exists(modelFolderOrFile))
        {
            throw new TokenizerException($"The tokenizer path '{modelFolderOrFile}' does not exist; pass a model folder, a {TokenizerJsonFileName} or a {TiktokenFileName}.");
        }

        if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return TokenizerJsonReader.Load(file);
        }

        byte[] content;
        try
        {
            content = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"Cannot read the tokenizer file '{file}': {e.Message}", e);
        }

        if (SentencePieceModelReader.LooksLikeModelProto(content))
        {
            return SentencePieceModelReader.Parse(content, file);
        }

        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", ConfigFileName);
        return TiktokenReader.Parse(content, file, File.Exists(config) ? TokenizerConfigFile.Load(config) : null);
    }

    /// <inheritdoc/>
    public int Encode(ReadOnlySpan<char> text, ICollection<int> ids, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var buffer = new PooledIdList(text.Length / 3);
        try
        {
            EncodeCore(text, parseSpecialTokens, ref buffer);
            if (ids is List<int> list)
            {
                list.AddRange(buffer.AsSpan());
            }
            else
            {
                foreach (int id in buffer.AsSpan())
                {
                    ids.Add(id);
                }
            }

            return buffer.Count;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <inheritdoc/>
    public int Encode(ReadOnlySpan<char> text, Span<int> destination, bool parseSpecialTokens = true)
    {
        var buffer = new PooledIdList(text.Length / 3);
        try
        {
            EncodeCore(text, parseSpecialTokens, ref buffer);
            if (buffer.Count > destination.Length)
            {
                throw new ArgumentException($"The destination holds {destination.Length} ids but the text encodes to {buffer.Count}; pass a buffer of at least {buffer.Count}.", nameof(destination));
            }

            buffer.AsSpan().CopyTo(destination);
            return buffer.Count;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var buffer = new PooledIdList(text.Length / 3);
        try
        {
            EncodeCore(text, parseSpecialTokens, ref buffer);
            return buffer.AsSpan().ToArray();
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <inheritdoc/>
    public int CountTokens(ReadOnlySpan<char> text, bool parseSpecialTokens = true)
    {
        var buffer = new PooledIdList(text.Length / 3);
        try
        {
            EncodeCore(text, parseSpecialTokens, ref buffer);
            return buffer.Count;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        int byteCount = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (!(skipSpecialTokens && IsSpecial(ids[i])))
            {
                byteCount += GetTokenBytes(ids[i], i).Length;
            }
        }

        // A run of byte tokens that is not valid UTF-8 may become three bytes (U+FFFD) per byte.
        int capacity = _isByteToken is null ? byteCount : byteCount * 3;
        byte[] bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 1));
        try
        {
            int offset = 0;
            int byteRun = -1;
            bool runStart = true;
            foreach (int id in ids)
            {
                if (!(skipSpecialTokens && IsSpecial(id)))
                {
                    bool isByte = IsByteFallbackToken(id);
                    if (!isByte && byteRun >= 0)
                    {
                        offset = RepairByteRun(bytes, byteRun, offset);
                        byteRun = -1;
                    }
                    else if (isByte && byteRun < 0)
                    {
                        byteRun = offset;
                    }

                    ReadOnlySpan<byte> token = DecodeStep(id, ref runStart);
                    token.CopyTo(bytes.AsSpan(offset));
                    offset += token.Length;
                }
                else
                {
                    SkipStep(id, ref runStart);
                }
            }

            if (byteRun >= 0)
            {
                offset = RepairByteRun(bytes, byteRun, offset);
            }

            // Invalid or truncated UTF-8 becomes U+FFFD per maximal invalid subsequence, as Rust's from_utf8_lossy does.
            return Encoding.UTF8.GetString(bytes, 0, offset);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Whether <paramref name="id"/> is a <c>&lt;0xNN&gt;</c> byte-fallback token.</summary>
    internal bool IsByteFallbackToken(int id) => _isByteToken is { } table && (uint)id < (uint)table.Length && table[id];

    /// <summary>
    /// Rewrites the bytes of a run of byte-fallback tokens of a SentencePiece model, <c>buffer[start..end]</c>, as
    /// SentencePiece decodes them when they are not valid UTF-8: it keeps the valid characters and makes each other
    /// byte U+FFFD (elsewhere an invalid sequence is one U+FFFD, as @huggingface/tokenizers' ByteFallback decodes a run).
    /// The buffer must have room for three bytes per byte.
    /// </summary>
    /// <returns>The new end of the run.</returns>
    internal static int RepairByteRun(byte[] buffer, int start, int end)
    {
        ReadOnlySpan<byte> run = buffer.AsSpan(start, end - start);
        if (System.Text.Unicode.Utf8.IsValid(run))
        {
            return end;
        }

        ReadOnlySpan<byte> replacement = [0xEF, 0xBF, 0xBD];
        byte[] copy = System.Buffers.ArrayPool<byte>.Shared.Rent(run.Length);
        try
        {
            run.CopyTo(copy);
            int written = start;
            for (int i = 0; i < run.Length;)
            {
                int consumed = 1;
                if (System.Text.Rune.DecodeFromUtf8(copy.AsSpan(i, run.Length - i), out _, out int length) == System.Buffers.OperationStatus.Done)
                {
                    copy.AsSpan(i, length).CopyTo(buffer.AsSpan(written));
                    written += length;
                    consumed = length;
                }
                else
                {
                    replacement.CopyTo(buffer.AsSpan(written));
                    written += 3;
                }

                i += consumed;
            }

            return written;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <inheritdoc/>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out int id) || _modelVocabulary.TryGetValue(token, out id))
        {
            return id;
        }

        return null;
    }

    /// <inheritdoc/>
    public string? IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <inheritdoc/>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <inheritdoc/>
    public IncrementalDecoder CreateIncrementalDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>The bytes an id stands for; <paramref name="position"/> is only for the error message.</summary>
    internal ReadOnlySpan<byte> GetTokenBytes(int id, int position)
    {
        if ((uint)id >= (uint)_tokenBytes.Length || _tokenBytes[id] is not { } bytes)
        {
            throw new TokenizerException($"Token id {id} (at position {position}) is not in the vocabulary of '{Source}', whose ids run from 0 to {_tokenBytes.Length - 1}; the ids must come from this tokenizer.");
        }

        return bytes;
    }

    /// <summary>
    /// The bytes one id contributes to decoded text, after the SentencePiece-style decoder's removal of the space
    /// that encoding prepended: once at the start (Hugging Face's <c>Strip</c> / <c>Metaspace</c> decoders), and for
    /// ChatGLM3 also after each of its special tokens (it decodes the runs between them one by one).
    /// </summary>
    internal ReadOnlySpan<byte> DecodeStep(int id, ref bool runStart)
    {
        ReadOnlySpan<byte> bytes = GetTokenBytes(id, 0);
        if (_sentencePiece is not { } decoding)
        {
            return bytes;
        }

        if (_isAdded[id])
        {
            if (decoding.StripAfterAddedTokens)
            {
                runStart = true;
                return bytes;
            }
        }

        if (runStart && bytes.Length > 0)
        {
            if (IsByteFallbackToken(id))
            {
                // SentencePiece removes the dummy prefix from a ▁ piece only, never from a <0x20> byte piece.
                runStart = false;
                return bytes;
            }

            if (decoding.StripAllLeadingSpaces)
            {
                // SentencePiece drops all leading white space when its model removes extra white space.
                bytes = bytes.TrimStart((byte)' ');
                runStart = bytes.IsEmpty;
                return bytes;
            }

            runStart = false;
            if (decoding.StripLeadingSpace && bytes[0] == (byte)' ')
            {
                return bytes[1..];
            }
        }

        return bytes;
    }

    /// <summary>Accounts for a special token left out of decoded text.</summary>
    internal void SkipStep(int id, ref bool runStart)
    {
        if (_sentencePiece is { StripAfterAddedTokens: true } && _isAdded[id])
        {
            runStart = true;
        }
    }

    private void EncodeCore(ReadOnlySpan<char> text, bool parseSpecialTokens, ref PooledIdList output)
    {
        AddedTokenMatcher matcher = parseSpecialTokens ? _rawMatcher : _rawMatcherWithoutSpecial;
        int position = 0;
        while (!matcher.IsEmpty && matcher.TryFindNext(text, position, out int start, out int end, out AddedToken? token))
        {
            EncodeSegment(text[position..start], position == 0, parseSpecialTokens, ref output);
            output.Add(token!.Id);
            position = end;
        }

        EncodeSegment(text[position..], position == 0, parseSpecialTokens, ref output);
    }

    private void EncodeSegment(ReadOnlySpan<char> segment, bool atTextStart, bool parseSpecialTokens, ref PooledIdList output)
    {
        if (segment.IsEmpty)
        {
            return;
        }

        if (_normalizer is null)
        {
            EncodeText(segment, ref output);
            return;
        }

        string normalized = _normalizer.Normalize(segment, atTextStart);
        AddedTokenMatcher matcher = parseSpecialTokens ? _normalizedMatcher : _normalizedMatcherWithoutSpecial;
        int position = 0;
        while (!matcher.IsEmpty && matcher.TryFindNext(normalized, position, out int start, out int end, out AddedToken? token))
        {
            EncodeText(normalized.AsSpan(position, start - position), ref output);
            output.Add(token!.Id);
            position = end;
        }

        EncodeText(normalized.AsSpan(position), ref output);
    }

    private void EncodeText(ReadOnlySpan<char> text, ref PooledIdList output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (_addPrefixSpace && text[0] != ' ')
        {
            text = string.Concat(" ", text);
        }

        if (_splitters.Length == 0)
        {
            _model.EncodePiece(text, ref output);
            return;
        }

        List<(int Start, int Length)> pieces = t_pieces ??= [];
        pieces.Clear();
        _splitters[0].Split(text, 0, pieces);
        for (int s = 1; s < _splitters.Length; s++)
        {
            List<(int Start, int Length)> next = t_scratch ??= [];
            next.Clear();
            foreach ((int start, int length) in pieces)
            {
                _splitters[s].Split(text.Slice(start, length), start, next);
            }

            (t_pieces, t_scratch) = (next, pieces);
            pieces = next;
        }

        foreach ((int start, int length) in pieces)
        {
            _model.EncodePiece(text.Slice(start, length), ref output);
        }

        pieces.Clear();
    }
}
