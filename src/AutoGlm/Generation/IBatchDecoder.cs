namespace AutoGlm.Generation;

/// <summary>
/// A decoder-only language model that runs several sequences in one step, each with its own KV cache slot.
/// The scheduler loop is its only caller, so implementations need not be thread-safe, except that the
/// cancellation token of <see cref="Step"/> may fire from another thread.
/// </summary>
/// <remarks>
/// <para>
/// Shaped for the ONNX Runtime decoder graph of the model I/O contract (<c>input_ids</c>,
/// <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.{i}.key|value</c> →
/// <c>logits</c>, <c>present.{i}.key|value</c>). An implementation keeps, per slot, the KV buffers of every
/// layer, sized from the capacity given at allocation (never the model's whole context by default), and for a
/// step builds the batch from the rows: <c>position_ids</c> are <c>PastLength + j</c>, the attention mask
/// covers each row's past and new tokens, rows of different lengths are padded and masked, and the logits
/// of each row's last real token are copied out. Rows may mix prefill chunks and single decode tokens, and
/// their slots need not be contiguous; an implementation may split a step into groups internally.
/// </para>
/// <para>
/// The contract the scheduler keeps: a slot is allocated before it is used and freed once; a row's
/// <c>PastLength</c> equals the total tokens earlier steps fed to that slot since it was allocated (or, after
/// <see cref="ReuseSlot"/>, the kept length plus what was fed since); a slot never holds more than the capacity
/// it was allocated (or reused) with; each slot appears at most once per step.
/// </para>
/// </remarks>
internal interface IBatchDecoder
{
    /// <summary>Gets the most sequences that can hold a slot at once (and so the most rows of a step).</summary>
    int MaxBatchSize { get; }

    /// <summary>Gets the model's context length: the most positions one sequence may use.</summary>
    int MaxSequenceLength { get; }

    /// <summary>Gets the length of one row of logits.</summary>
    int VocabularySize { get; }

    /// <summary>Prepares slot <paramref name="slot"/> (0 to <see cref="MaxBatchSize"/> - 1) for a new sequence that will use at most <paramref name="tokenCapacity"/> positions.</summary>
    void AllocateSlot(int slot, int tokenCapacity);

    /// <summary>
    /// Hands slot <paramref name="slot"/>, which is allocated and holds KV for at least
    /// <paramref name="keptLength"/> positions, to a new sequence that starts with those positions and will use at
    /// most <paramref name="tokenCapacity"/>; whatever the slot held after them is discarded (prefix reuse).
    /// </summary>
    void ReuseSlot(int slot, int tokenCapacity, int keptLength);

    /// <summary>
    /// Copies the first <paramref name="length"/> positions of slot <paramref name="slot"/>'s KV out of the decoder, so
    /// the slot can be freed while its KV is kept for a later prompt that starts the same way (prefix reuse);
    /// <see langword="null"/> when this decoder cannot, in which case the slot itself is kept.
    /// </summary>
    ParkedKv? ExportSlot(int slot, int length) => null;

    /// <summary>
    /// Writes the first <paramref name="length"/> positions of <paramref name="parked"/> into slot <paramref name="slot"/>,
    /// just allocated, which then holds them as if it had been fed their tokens.
    /// </summary>
    void ImportSlot(int slot, ParkedKv parked, int length) => throw new NotSupportedException("This decoder does not export KV, so it has none to import.");

    /// <summary>Releases slot <paramref name="slot"/>; its KV contents are discarded. Never throws for a slot that was allocated.</summary>
    void FreeSlot(int slot);

    /// <summary>
    /// Runs the model once for <paramref name="rows"/>: feeds each row's new tokens (taken in row order from
    /// <paramref name="tokenIds"/>, <see cref="DecoderRow.TokenCount"/> each), appends their keys and values to
    /// the row's slot, and writes the logits of each row's last new token to
    /// <c>logits[i * VocabularySize .. (i + 1) * VocabularySize]</c>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (the model is being disposed).</exception>
    /// <exception cref="AutoGlmException">The model failed; the slots of the rows are then in an undefined state and are freed by the caller.</exception>
    void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken);
}
