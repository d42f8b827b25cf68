namespace AutoGlm.Generation;

/// <summary>One sequence's share of a batched model step.</summary>
/// <param name="Slot">The KV slot of the sequence, as given to <see cref="IBatchDecoder.AllocateSlot"/>.</param>
/// <param name="PastLength">
/// How many positions of the slot's KV cache already hold this sequence's earlier tokens; the new tokens take
/// positions <c>PastLength</c> to <c>PastLength + TokenCount - 1</c> (their <c>position_ids</c>).
/// </param>
/// <param name="TokenCount">How many new tokens the row feeds: a prefill chunk, or 1 when decoding.</param>
internal readonly record struct DecoderRow(int Slot, int PastLength, int TokenCount);
