using System.Buffers;
using System.Text.Unicode;

namespace AutoGlm.Tokenization;

/// <summary>
/// Turns a stream of token ids into text one id at a time. Text is released only when its UTF-8 bytes are
/// complete, so a Chinese character or an emoji split across tokens never shows up as U+FFFD; the
/// concatenation of everything returned (and <see cref="Flush"/>) equals <see cref="Tokenizer.Decode"/> of all the ids.
/// </summary>
/// <remarks>
/// Not thread-safe: use one decoder per sequence. It allocates nothing in steady state; the spans it
/// returns point into its own buffer and are valid until the next call.
/// </remarks>
public sealed class IncrementalDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private byte[] _pending = new byte[64];
    private int _pendingCount;
    private bool _runStart = true;
    private int _byteRun = -1;
    private char[] _text = new char[64];

    internal IncrementalDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The number of bytes held back because they end in an incomplete UTF-8 sequence.</summary>
    public int PendingByteCount => _pendingCount;

    /// <summary>Adds one id and returns the text it completes (possibly empty).</summary>
    /// <param name="id">The next token id.</param>
    /// <returns>The newly completed text; valid until the next call on this decoder.</returns>
    /// <exception cref="TokenizerException"><paramref name="id"/> is not in the vocabulary.</exception>
    public ReadOnlySpan<char> Append(int id)
    {
        if (_skipSpecialTokens && _tokenizer.IsSpecial(id))
        {
            _tokenizer.SkipStep(id, ref _runStart);
            return [];
        }

        // A run of byte-fallback tokens is held back until it ends: whether it is valid UTF-8 decides how it decodes.
        bool isByte = _tokenizer.IsByteFallbackToken(id);
        if (!isByte)
        {
            EndByteRun();
        }
        else if (_byteRun < 0)
        {
            _byteRun = _pendingCount;
        }

        ReadOnlySpan<byte> bytes = _tokenizer.DecodeStep(id, ref _runStart);
        EnsureCapacity(_pendingCount + bytes.Length);
        bytes.CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount += bytes.Length;
        return Convert(isFinalBlock: false);
    }

    /// <summary>Releases the bytes held back, each incomplete sequence as U+FFFD, and empties the decoder.</summary>
    /// <returns>The remaining text; valid until the next call on this decoder.</returns>
    public ReadOnlySpan<char> Flush()
    {
        EndByteRun();
        return Convert(isFinalBlock: true);
    }

    /// <summary>Forgets any held-back bytes so the decoder can start a new sequence.</summary>
    public void Reset()
    {
        _pendingCount = 0;
        _runStart = true;
        _byteRun = -1;
    }

    private void EndByteRun()
    {
        if (_byteRun >= 0)
        {
            EnsureCapacity(_byteRun + (3 * (_pendingCount - _byteRun)));
            _pendingCount = Tokenizer.RepairByteRun(_pending, _byteRun, _pendingCount);
            _byteRun = -1;
        }
    }

    private ReadOnlySpan<char> Convert(bool isFinalBlock)
    {
        int limit = _byteRun >= 0 ? _byteRun : _pendingCount;
        OperationStatus status = Utf8.ToUtf16(_pending.AsSpan(0, limit), _text, out int read, out int written, replaceInvalidSequences: true, isFinalBlock);
        if (status == OperationStatus.DestinationTooSmall)
        {
            throw new InvalidOperationException("The incremental decoder's text buffer was too small; this is a bug in AutoGlm.");
        }

        _pending.AsSpan(read, _pendingCount - read).CopyTo(_pending);
        _pendingCount -= read;
        if (_byteRun >= 0)
        {
            _byteRun -= read;
        }

        return _text.AsSpan(0, written);
    }

    private void EnsureCapacity(int bytes)
    {
        if (bytes > _pending.Length)
        {
            int size = Math.Max(bytes, _pending.Length * 2);
            Array.Resize(ref _pending, size);
            _text = new char[size];
        }
    }
}
