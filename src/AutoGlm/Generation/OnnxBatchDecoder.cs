using System.Runtime.CompilerServices;
using AutoGlm.Models;
using AutoGlm.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Generation;

/// <summary>
/// Runs a GLM decoder graph (docs/model-contract.md) for the batch scheduler: one KV slot per sequence in a
/// <see cref="KvCacheStorage"/> updated in place, decode rows batched into one run, prompts that start together
/// batched into one run, other prefill chunks run per row.
/// </summary>
/// <remarks>
/// <para>
/// A step runs its single-token (decode) rows together over the contiguous slot range they span; a slot in
/// that range that is not decoding this step becomes a filler row whose one new position lands just past
/// its real tokens — nothing it holds is overwritten, and the slot's own next tokens overwrite the filler.
/// Then the prompts that start in this step (empty past, several tokens) whose lengths are close run as one
/// right-padded batch, over their storage rows when their slots are adjacent, else over a scratch block copied
/// into the slots afterwards (GroupQueryAttention takes a batch of prompts with per-row lengths, but not a batch
/// of chunks after a past). Every other multi-token (prefill) row runs on its own slot, a lone prompt exactly
/// as before. The decode attention mask always spans the storage's full row length, so the tensors of a decode
/// batch keep their shapes from step to step and are reused: steady-state decoding allocates no managed memory.
/// </para>
/// <para>
/// KV memory follows the tokens held, not the capacity reserved: rows grow 256 positions at a time when the
/// longest sequence needs them (moving what is held), on Linux only the pages holding written positions are
/// committed and a freed slot's pages are given back (see <see cref="KvCacheStorage"/>), and when no slot is in use
/// every page goes back and the rows are re-laid at the shortest width.
/// </para>
/// <para>Not thread-safe: the scheduler loop is the only caller; the cancellation token may fire from any thread.</para>
/// </remarks>
internal sealed class OnnxBatchDecoder : IBatchDecoder, IDisposable
{
    private readonly int _lengthGranularity;

    private readonly OrtSession _session;
    private readonly KvCacheStorage _storage;
    private readonly int _layers;
    private readonly int[] _slotCapacity;
    private readonly int[] _slotLength;
    private readonly Dictionary<long, DecodeBatch> _batches = [];
    private readonly RunOptions _runOptions = new();
    private readonly long[] _logitsToKeepShape;
    private readonly int _positionIndex;
    private readonly int _logitsToKeepIndex;
    private readonly int[] _pastIndices;
    private readonly int[] _presentIndices;
    private readonly int[] _promptOrder;
    private readonly int[] _promptBatchRow;
    private readonly int[] _promptOffset;
    private readonly KvCacheStorage _scratch;
    private readonly bool[] _promptBatched;
    private readonly long[] _promptKeep = new long[1];
    private readonly double _logitsRowCost;
    private long[]? _promptIds;
    private long[]? _promptPositions;
    private long[]? _promptMask;
    private float[]? _promptLogits;
    private int _kvVersion;
    private long _parkedBytes;
    private int _parkedTokens;
    private int _parkedCount;
    private bool _freeRowsWritten;
    private CancellationToken _registeredToken;
    private CancellationTokenRegistration _registration;

    /// <param name="session">The decoder graph's session.</param>
    /// <param name="info">The model's sizes.</param>
    /// <param name="maxBatchSize">Slots.</param>
    /// <param name="maxSequenceLength">Positions one sequence may use (capped at the model's context).</param>
    /// <param name="lengthGranularity">Positions a row grows by at a time (tests use small steps to exercise growth).</param>
    public OnnxBatchDecoder(OrtSession session, GlmModelInfo info, int maxBatchSize, int maxSequenceLength, int lengthGranularity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lengthGranularity);
        _lengthGranularity = lengthGranularity;
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSequenceLength);
        _session = session;
        _layers = info.LayerCount;
        MaxBatchSize = maxBatchSize;
        MaxSequenceLength = Math.Min(maxSequenceLength, info.ContextLength);
        VocabularySize = info.VocabularySize;
        _slotCapacity = new int[maxBatchSize];
        _slotLength = new int[maxBatchSize];
        _promptOrder = new int[maxBatchSize];
        _promptBatchRow = new int[maxBatchSize];
        _promptOffset = new int[maxBatchSize];
        _promptBatched = new bool[maxBatchSize];
        _logitsRowCost = info.VocabularySize / (12.0 * info.LayerCount * info.HiddenSize);
        _storage = new KvCacheStorage(info.LayerCount, info.KeyValueHeadCount, info.HeadSize, info.KvCacheIsFloat16 ? TensorElementType.Float16 : TensorElementType.Float);
        _scratch = new KvCacheStorage(info.LayerCount, info.KeyValueHeadCount, info.HeadSize, _storage.ElementType);

        // Rows and widths change with the sequences held; inside this space they change without new pages.
        _storage.ReserveAddressSpace(MaxBatchSize, MaxSequenceLength);

        _ = RequireInput("input_ids");
        _ = RequireInput("attention_mask");
        _positionIndex = session.IndexOfInput("position_ids");
        _logitsToKeepIndex = session.IndexOfInput("num_logits_to_keep");
        // ONNX Runtime GenAI feeds num_logits_to_keep as shape [1]; folders built before it could load them declare a scalar.
        _logitsToKeepShape = _logitsToKeepIndex >= 0 && session.Inputs[_logitsToKeepIndex].Shape.Length == 1 ? [1] : [];
        _ = RequireOutput("logits");
        _pastIndices = new int[2 * _layers];
        _presentIndices = new int[2 * _layers];
        for (int layer = 0; layer < _layers; layer++)
        {
            _pastIndices[2 * layer] = RequireInput($"past_key_values.{layer}.key");
            _pastIndices[(2 * layer) + 1] = RequireInput($"past_key_values.{layer}.value");
            _presentIndices[2 * layer] = RequireOutput($"present.{layer}.key");
            _presentIndices[(2 * layer) + 1] = RequireOutput($"present.{layer}.value");
        }

    }

    public int MaxBatchSize { get; }

    public int MaxSequenceLength { get; }

    public int VocabularySize { get; }

    /// <summary>Bytes of address space the KV cache spans now (rows × the longest row).</summary>
    public long KvBytesAllocated => _storage.BytesAllocated;

    /// <summary>Gets how many prompt rows ran batched with others so far (each batched row counts once).</summary>
    internal long BatchedPromptRows { get; private set; }

    /// <summary>Copies the keys one layer holds for the first <paramref name="positions"/> positions of a slot's head (float caches only), for tests.</summary>
    internal float[] ReadKeys(int layer, int slot, int head, int positions) => _storage.ReadKeys(layer, slot, head, positions);

    /// <summary>
    /// Bytes of KV cache memory held now: on Linux the pages the slots' tokens (and filler positions) occupy, freed
    /// slots' pages given back; elsewhere <see cref="KvBytesAllocated"/>. Plus the KV parked outside the slots
    /// (<see cref="ExportSlot"/>). May be read from any thread.
    /// </summary>
    public long KvBytesResident => _storage.BytesResident + Volatile.Read(ref _parkedBytes);

    /// <summary>Gets the positions the slots and the exported parked blocks hold now, summed; a racy snapshot when read from another thread.</summary>
    public int KvTokensHeld
    {
        get
        {
            int total = Volatile.Read(ref _parkedTokens);
            for (int slot = 0; slot < _slotLength.Length; slot++)
            {
                total += Volatile.Read(ref _slotLength[slot]);
            }

            return total;
        }
    }

    /// <summary>Gets the sequences holding KV now: slots allocated plus exported parked blocks; a racy snapshot when read from another thread.</summary>
    public int KvSlotsHeld
    {
        get
        {
            int total = Volatile.Read(ref _parkedCount);
            for (int slot = 0; slot < _slotCapacity.Length; slot++)
            {
                total += Volatile.Read(ref _slotCapacity[slot]) > 0 ? 1 : 0;
            }

            return total;
        }
    }

    /// <summary>
    /// Reads the KV bytes held, positions held and slots held as one consistent snapshot, from any thread; <see langword="false"/>
    /// when the loop changed them while they were read (try again later). For benchmarks that compare memory with tokens.
    /// </summary>
    public bool TryReadKv(out long bytes, out int tokens, out int slots)
    {
        int version = Volatile.Read(ref _kvVersion);
        tokens = KvTokensHeld;
        slots = KvSlotsHeld;
        bytes = KvBytesResident;
        return (version & 1) == 0 && Volatile.Read(ref _kvVersion) == version;
    }

    /// <summary>The KV storage, for tests that compare its accounting with the system's.</summary>
    internal KvCacheStorage Storage => _storage;

    public void AllocateSlot(int slot, int tokenCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, MaxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokenCapacity, MaxSequenceLength);
        _slotCapacity[slot] = tokenCapacity;
        _slotLength[slot] = 0;

        // Rows are made now; row length grows in Step with the tokens actually held, not the capacity reserved.
        int rows = Math.Min(MaxBatchSize, Math.Max(_storage.Rows, NextPowerOfTwo(slot + 1)));
        if (rows > _storage.Rows)
        {
            BeginKvChange();
            _storage.EnsureCapacity(rows, Math.Max(_storage.Length, RoundUp(1)));
            EndKvChange();
            InvalidateBatches();
        }
    }

    public void ReuseSlot(int slot, int tokenCapacity, int keptLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, MaxBatchSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokenCapacity, MaxSequenceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(keptLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keptLength, _slotLength[slot]);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(keptLength, tokenCapacity);
        if (_slotCapacity[slot] == 0)
        {
            throw new InvalidOperationException($"Slot {slot} is not allocated, so it holds nothing to reuse.");
        }

        // The kept positions stay where they are; the next step writes from keptLength on.
        BeginKvChange();
        _slotCapacity[slot] = tokenCapacity;
        _slotLength[slot] = keptLength;
        _storage.Trim(slot, keptLength);
        EndKvChange();
    }

    public unsafe ParkedKv? ExportSlot(int slot, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)slot, (uint)MaxBatchSize, nameof(slot));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _slotLength[slot]);
        var parked = new ParkedKv(length, length * _storage.BytesPerPosition, ReleaseParked);
        _storage.CopyRow(slot, length, length, parked.Data, toRow: false);
        BeginKvChange();
        _parkedBytes += parked.Bytes;
        _parkedTokens += length;
        _parkedCount++;
        EndKvChange();
        return parked;
    }

    public unsafe void ImportSlot(int slot, ParkedKv parked, int length)
    {
        ArgumentNullException.ThrowIfNull(parked);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)slot, (uint)MaxBatchSize, nameof(slot));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, parked.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(length, _slotCapacity[slot]);
        BeginKvChange();
        int needed = Math.Min(length + 1, MaxSequenceLength);
        if (needed > _storage.Length)
        {
            _storage.EnsureCapacity(_storage.Rows, RoundUp(needed));
            InvalidateBatches();
        }

        // The parked block is packed by its own length; only its first `length` positions come back.
        _storage.CopyRow(slot, length, parked.Length, parked.Data, toRow: true);

        _slotLength[slot] = length;
        _storage.MarkWritten(slot, length);
        EndKvChange();
    }

    public void FreeSlot(int slot)
    {
        if ((uint)slot >= (uint)MaxBatchSize)
        {
            return;
        }

        BeginKvChange();
        _slotCapacity[slot] = 0;
        _slotLength[slot] = 0;
        _storage.Discard(slot);
        if (Array.TrueForAll(_slotCapacity, c => c == 0))
        {
            // Every row's pages (free rows' filler positions too) are given back; the mapping stays for the next request.
            for (int row = 0; row < _storage.Rows; row++)
            {
                _storage.Discard(row);
            }

            _freeRowsWritten = false;
            if (_storage.Length > RoundUp(1))
            {
                // Rows longer than the shortest: re-laid at the shortest width in the same mapping, so the next
                // sequences' tensors (and the attention's work, which follows their width) start short again
                // without faulting their pages in afresh. The bound batches had the old width.
                InvalidateBatches();
                _storage.Narrow(RoundUp(1));
            }
        }

        EndKvChange();
    }

    // Per token: optimised from the first call, not recompiled in the background while tokens stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WatchCancellation(cancellationToken);

        int first = int.MaxValue;
        int last = -1;
        int longest = 0;
        foreach (DecoderRow row in rows)
        {
            CheckRow(row);
            longest = Math.Max(longest, row.PastLength + row.TokenCount);
            if (row.TokenCount == 1)
            {
                first = Math.Min(first, row.Slot);
                last = Math.Max(last, row.Slot);
            }
        }

        // One spare position per row (a filler row writes just past a slot's real tokens), within the context.
        int needed = Math.Min(longest + 1, MaxSequenceLength);
        if (needed > _storage.Length)
        {
            BeginKvChange();
            _storage.EnsureCapacity(_storage.Rows, RoundUp(needed));
            EndKvChange();
            InvalidateBatches();
        }

        if (_freeRowsWritten)
        {
            DiscardFreeRowsOutside(first, last);
        }

        if (last >= 0)
        {
            RunDecode(rows, tokenIds, logits, first, last - first + 1, cancellationToken);
        }

        // Prompts that start together (empty past, several tokens) run as batches; a lone prompt runs as before.
        bool batched = CountPrompts(rows) >= 2 && RunPromptBatches(rows, tokenIds, logits, cancellationToken);
        int offset = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            DecoderRow row = rows[i];
            if (row.TokenCount > 1 && !(batched && _promptBatched[i]))
            {
                RunPrefill(row, tokenIds.Slice(offset, row.TokenCount), logits.Slice(i * VocabularySize, VocabularySize), cancellationToken);
            }

            offset += row.TokenCount;
        }

        BeginKvChange();
        foreach (DecoderRow row in rows)
        {
            _slotLength[row.Slot] = row.PastLength + row.TokenCount;
            _storage.MarkWritten(row.Slot, row.PastLength + row.TokenCount);
        }

        EndKvChange();
    }

    public void Dispose()
    {
        _registration.Dispose();
        InvalidateBatches();
        _storage.Dispose();
        _scratch.Dispose();
        _runOptions.Dispose();
    }

    // Per token: optimised from the first call, not recompiled in the background while tokens stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunDecode(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, int first, int count, CancellationToken cancellationToken)
    {
        DecodeBatch batch = GetBatch(first, count);
        int width = _storage.Length;

        // Fillers first: every slot in the range that does not decode in this step.
        BeginKvChange();
        for (int r = 0; r < count; r++)
        {
            int slot = first + r;
            // A full slot (length == width) is finished and never read again: its last position may take the filler.
            int length = Math.Min(_slotLength[slot], width - 1);
            _storage.MarkWritten(slot, length + 1);
            _freeRowsWritten |= _slotCapacity[slot] == 0;
            batch.InputIds[r] = 0;
            batch.PositionIds[r] = length;
            FillMask(batch.Mask.AsSpan(r * width, width), length + 1);
        }

        int offset = 0;
        foreach (DecoderRow row in rows)
        {
            if (row.TokenCount == 1)
            {
                int r = row.Slot - first;
                batch.InputIds[r] = tokenIds[offset];
                batch.PositionIds[r] = row.PastLength;
                FillMask(batch.Mask.AsSpan(r * width, width), row.PastLength + 1);
            }

            offset += row.TokenCount;
        }

        EndKvChange();
        Run(batch.Binding, cancellationToken);

        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].TokenCount == 1)
            {
                int r = rows[i].Slot - first;
                batch.Logits.AsSpan(r * VocabularySize, VocabularySize).CopyTo(logits.Slice(i * VocabularySize, VocabularySize));
            }
        }
    }

    private static int CountPrompts(ReadOnlySpan<DecoderRow> rows)
    {
        int prompts = 0;
        foreach (DecoderRow row in rows)
        {
            prompts += IsPrompt(row) ? 1 : 0;
        }

        return prompts;
    }

    // A prompt row starts a sequence: GroupQueryAttention's prompt mode (new tokens == mask width) takes several
    // of them in one batch, right-padded with per-row lengths; rows with a past must run alone.
    private static bool IsPrompt(DecoderRow row) => row.PastLength == 0 && row.TokenCount > 1;

    /// <summary>
    /// Runs the prompt rows in groups of two or more of close lengths (shortest first), and marks the rows it ran
    /// in <see cref="_promptBatched"/>; a row that fits no group is left to run alone. Returns whether any group ran.
    /// </summary>
    private bool RunPromptBatches(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
    {
        _promptBatched.AsSpan().Clear();
        int prompts = 0;
        int offset = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            if (IsPrompt(rows[i]))
            {
                // Insertion by length: a handful of rows, and similar lengths end up side by side.
                int at = prompts++;
                while (at > 0 && rows[_promptOrder[at - 1]].TokenCount > rows[i].TokenCount)
                {
                    _promptOrder[at] = _promptOrder[at - 1];
                    at--;
                }

                _promptOrder[at] = i;
            }

            _promptOffset[i] = offset;
            offset += rows[i].TokenCount;
        }

        bool any = false;
        int start = 0;
        while (start < prompts)
        {
            // Grow the group while the padding it costs stays small; lengths only rise along the order.
            int shortest = rows[_promptOrder[start]].TokenCount;
            int longest = shortest;
            int sum = shortest;
            int end = start + 1;
            while (end < prompts)
            {
                int length = rows[_promptOrder[end]].TokenCount;
                if (!PaddingIsCheap(end - start + 1, length, shortest, sum + length))
                {
                    break;
                }

                longest = length;
                sum += length;
                end++;
            }

            if (end - start >= 2)
            {
                RunPromptBatch(rows, tokenIds, logits, _promptOrder.AsSpan(start, end - start), longest, shortest, cancellationToken);
                any = true;
            }

            start = end;
        }

        return any;
    }

    /// <summary>
    /// Whether a group of <paramref name="count"/> prompts is worth running padded: the wasted work — pad tokens
    /// through every layer, plus the logits rows kept only because the rows end at different positions — stays
    /// within an eighth of the real tokens. A logits row is weighed as the vocabulary projection against a
    /// token's pass through the layers (about 12 × hidden² multiply-adds per layer). Measured on the small
    /// preset (int4, 2 threads), 4 × 64 tokens batched take 0.85× the time of one by one, 8 × 8 tokens 0.37×,
    /// and 64, 64, 64, 48 (waste just under an eighth) still 0.96×.
    /// </summary>
    private bool PaddingIsCheap(int count, int longest, int shortest, int sum)
    {
        double padTokens = ((double)count * longest) - sum;
        double extraLogitRows = (double)count * (longest - shortest);
        return padTokens + (extraLogitRows * _logitsRowCost) <= sum / 8.0;
    }

    /// <summary>
    /// Runs one group of prompt rows (indices into <paramref name="rows"/>) as a right-padded batch. When their
    /// slots are exactly a contiguous range, the storage rows of that range are bound as past/present (every slot
    /// in it starts its prompt, so nothing held is overwritten); otherwise a scratch block is, and each row's
    /// keys and values are copied into its slot afterwards.
    /// </summary>
    private void RunPromptBatch(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, ReadOnlySpan<int> group, int longest, int shortest, CancellationToken cancellationToken)
    {
        int count = group.Length;
        int first = int.MaxValue;
        int last = -1;
        foreach (int i in group)
        {
            first = Math.Min(first, rows[i].Slot);
            last = Math.Max(last, rows[i].Slot);
        }

        // Batch row r is slot first + r when the slots are contiguous, else the group's r-th row.
        bool direct = last - first + 1 == count;
        if (direct)
        {
            foreach (int i in group)
            {
                _promptBatchRow[rows[i].Slot - first] = i;
            }
        }
        else
        {
            group.CopyTo(_promptBatchRow);
        }

        // Right-padded rows: positions 0..longest-1 each; pad tokens are masked out (seqlens_k per row) and the
        // keys they write land past the row's real tokens, which the slot's own next tokens overwrite.
        int keep = longest - shortest + 1;
        int cells = count * longest;
        long[] ids = Rent(ref _promptIds, cells);
        long[] positions = Rent(ref _promptPositions, cells);
        long[] mask = Rent(ref _promptMask, cells);
        float[] rowLogits = Rent(ref _promptLogits, count * keep * VocabularySize);
        for (int r = 0; r < count; r++)
        {
            int i = _promptBatchRow[r];
            int length = rows[i].TokenCount;
            ReadOnlySpan<int> tokens = tokenIds.Slice(_promptOffset[i], length);
            Span<long> rowIds = ids.AsSpan(r * longest, longest);
            for (int j = 0; j < length; j++)
            {
                rowIds[j] = tokens[j];
            }

            rowIds[length..].Clear();
            for (int j = 0; j < longest; j++)
            {
                positions[(r * longest) + j] = j;
            }

            FillMask(mask.AsSpan(r * longest, longest), length);
        }

        _promptKeep[0] = keep;
        KvCacheView kv;
        if (direct)
        {
            kv = _storage.GetView(first, count);
        }
        else
        {
            _scratch.EnsureCapacity(count, longest);
            kv = _scratch.GetView(0, count);
        }

        try
        {
            using OrtValue idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, cells), [count, longest]);
            using OrtValue maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, cells), [count, longest]);
            using OrtValue positionValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, positions.AsMemory(0, cells), [count, longest]);
            using OrtValue keepValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _promptKeep.AsMemory(), _logitsToKeepShape);
            using OrtValue logitsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, rowLogits.AsMemory(0, count * keep * VocabularySize), [count, keep, VocabularySize]);
            using OrtIoBinding binding = Bind(idsValue, maskValue, positionValue, keepValue, logitsValue, kv);
            Run(binding, cancellationToken);
            if (direct)
            {
                // Every row of the range was written up to the longest prompt (pads included): their pages count as held.
                BeginKvChange();
                foreach (int i in group)
                {
                    _storage.MarkWritten(rows[i].Slot, longest);
                }

                EndKvChange();
            }
            else
            {
                for (int r = 0; r < count; r++)
                {
                    DecoderRow row = rows[_promptBatchRow[r]];
                    _storage.CopyRowFrom(_scratch, r, row.Slot, row.TokenCount);
                }
            }
        }
        finally
        {
            // Scratch KV is held only while a batch runs: memory follows the tokens held.
            _scratch.Release();
        }

        // Kept positions are longest-keep .. longest-1; a row's last real token is at length-1.
        for (int r = 0; r < count; r++)
        {
            int i = _promptBatchRow[r];
            int kept = rows[i].TokenCount - shortest;
            rowLogits.AsSpan(((r * keep) + kept) * VocabularySize, VocabularySize).CopyTo(logits.Slice(i * VocabularySize, VocabularySize));
            _promptBatched[i] = true;
        }

        BatchedPromptRows += count;
    }

    private static T[] Rent<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer;
    }

    private void RunPrefill(DecoderRow row, ReadOnlySpan<int> tokens, Span<float> logits, CancellationToken cancellationToken)
    {
        // GroupQueryAttention tells a prompt from a decode step by comparing the mask's width with the new
        // tokens: a prefill row's mask spans exactly its tokens so far (past + new).
        int width = row.PastLength + tokens.Length;
        long[] inputIds = new long[tokens.Length];
        long[] positions = new long[tokens.Length];
        for (int j = 0; j < tokens.Length; j++)
        {
            inputIds[j] = tokens[j];
            positions[j] = row.PastLength + j;
        }

        long[] mask = new long[width];
        FillMask(mask, row.PastLength + tokens.Length);
        float[] rowLogits = new float[VocabularySize];
        KvCacheView kv = _storage.GetView(row.Slot, 1);
        using OrtValue ids = OrtValue.CreateTensorValueFromMemory(inputIds, [1, tokens.Length]);
        using OrtValue maskValue = OrtValue.CreateTensorValueFromMemory(mask, [1, width]);
        using OrtValue positionValue = OrtValue.CreateTensorValueFromMemory(positions, [1, tokens.Length]);
        using OrtValue keep = OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, _logitsToKeepShape);
        using OrtValue logitsValue = OrtValue.CreateTensorValueFromMemory(rowLogits, [1, 1, VocabularySize]);
        using OrtIoBinding binding = Bind(ids, maskValue, positionValue, keep, logitsValue, kv);
        Run(binding, cancellationToken);
        rowLogits.CopyTo(logits);
    }

    // Per token: optimised from the first call, not recompiled in the background while tokens stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(OrtIoBinding binding, CancellationToken cancellationToken)
    {
        try
        {
            _session.Run(binding, _runOptions);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The model step was cancelled.", ex, cancellationToken);
        }
    }

    private OrtIoBinding Bind(OrtValue ids, OrtValue mask, OrtValue positions, OrtValue keep, OrtValue logits, KvCacheView kv)
    {
        OrtIoBinding binding = _session.CreateIoBinding();
        try
        {
            binding.BindInput("input_ids", ids);
            binding.BindInput("attention_mask", mask);
            if (_positionIndex >= 0)
            {
                binding.BindInput("position_ids", positions);
            }

            if (_logitsToKeepIndex >= 0)
            {
                binding.BindInput("num_logits_to_keep", keep);
            }

            binding.BindOutput("logits", logits);
            for (int layer = 0; layer < _layers; layer++)
            {
                // Past and present share one buffer: GroupQueryAttention appends the new position in place.
                binding.BindInput(_session.Inputs[_pastIndices[2 * layer]].Name, kv.Keys[layer]);
                binding.BindInput(_session.Inputs[_pastIndices[(2 * layer) + 1]].Name, kv.Values[layer]);
                binding.BindOutput(_session.Outputs[_presentIndices[2 * layer]].Name, kv.Keys[layer]);
                binding.BindOutput(_session.Outputs[_presentIndices[(2 * layer) + 1]].Name, kv.Values[layer]);
            }

            return binding;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
    }

    // Per token: optimised from the first call, not recompiled in the background while tokens stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private DecodeBatch GetBatch(int first, int count)
    {
        long key = ((long)first << 32) | (uint)count;
        if (_batches.TryGetValue(key, out DecodeBatch? batch))
        {
            return batch;
        }

        int width = _storage.Length;
        var ids = new long[count];
        var positions = new long[count];
        var mask = new long[count * width];
        var logits = new float[count * VocabularySize];
        OrtValue idsValue = OrtValue.CreateTensorValueFromMemory(ids, [count, 1]);
        OrtValue maskValue = OrtValue.CreateTensorValueFromMemory(mask, [count, width]);
        OrtValue positionValue = OrtValue.CreateTensorValueFromMemory(positions, [count, 1]);
        OrtValue keep = OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, _logitsToKeepShape);
        OrtValue logitsValue = OrtValue.CreateTensorValueFromMemory(logits, [count, 1, VocabularySize]);
        OrtIoBinding binding = Bind(idsValue, maskValue, positionValue, keep, logitsValue, _storage.GetView(first, count));
        batch = new DecodeBatch(ids, positions, mask, logits, binding, [idsValue, maskValue, positionValue, keep, logitsValue]);
        _batches[key] = batch;
        return batch;
    }

    // A free slot inside a decode range takes a filler position (a page of each head); once no decode range covers
    // it, that page goes back, so free slots do not keep memory between bursts of batching.
    private void DiscardFreeRowsOutside(int first, int last)
    {
        BeginKvChange();
        bool stillWritten = false;
        for (int slot = 0; slot < _storage.Rows; slot++)
        {
            if (_slotCapacity[slot] == 0)
            {
                if (slot >= first && slot <= last)
                {
                    stillWritten = true;
                }
                else
                {
                    _storage.Discard(slot);
                }
            }
        }

        _freeRowsWritten = stillWritten;
        EndKvChange();
    }

    private void ReleaseParked(ParkedKv parked)
    {
        BeginKvChange();
        _parkedBytes -= parked.Bytes;
        _parkedTokens -= parked.Length;
        _parkedCount--;
        EndKvChange();
    }

    // A version the loop makes odd while it changes what the slots hold, so TryReadKv can tell a torn read.
    private void BeginKvChange() => Volatile.Write(ref _kvVersion, _kvVersion + 1);

    private void EndKvChange() => Volatile.Write(ref _kvVersion, _kvVersion + 1);

    private void InvalidateBatches()
    {
        foreach (DecodeBatch batch in _batches.Values)
        {
            batch.Dispose();
        }

        _batches.Clear();
    }

    private void WatchCancellation(CancellationToken cancellationToken)
    {
        if (_registeredToken != cancellationToken)
        {
            _registration.Dispose();
            _registeredToken = cancellationToken;
            _registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, _runOptions)
                : default;
            // A new token starts clean: a termination asked for by the previous one must not stop this one's steps.
            _runOptions.Terminate = false;
        }
    }

    private void CheckRow(DecoderRow row)
    {
        if ((uint)row.Slot >= (uint)MaxBatchSize || _slotCapacity[row.Slot] == 0)
        {
            throw new InvalidOperationException($"Slot {row.Slot} is not allocated.");
        }

        if (row.TokenCount <= 0 || row.PastLength + row.TokenCount > _slotCapacity[row.Slot])
        {
            throw new InvalidOperationException($"Slot {row.Slot} was allocated for {_slotCapacity[row.Slot]} tokens; a row with {row.PastLength} past and {row.TokenCount} new does not fit.");
        }
    }

    // Per token: optimised from the first call, not recompiled in the background while tokens stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillMask(Span<long> mask, int ones)
    {
        mask[..ones].Fill(1);
        mask[ones..].Clear();
    }

    // The mask's width is the storage's row length, and the graph's rotary tables end at the context length.
    private int RoundUp(int length) => Math.Min(((length + _lengthGranularity - 1) / _lengthGranularity) * _lengthGranularity, MaxSequenceLength);

    private static int NextPowerOfTwo(int value)
    {
        int power = 1;
        while (power < value)
        {
            power <<= 1;
        }

        return power;
    }

    private int RequireInput(string name)
    {
        int index = _session.IndexOfInput(name);
        return index >= 0
            ? index
            : throw new ModelLoadException($"The model '{_session.Source}' has no input '{name}', which the AutoGlm model contract requires. Its inputs are: {string.Join(", ", _session.Inputs.Select(i => i.Name))}. Rebuild it with 'autoglm build'.");
    }

    private int RequireOutput(string name)
    {
        int index = _session.IndexOfOutput(name);
        return index >= 0
            ? index
            : throw new ModelLoadException($"The model '{_session.Source}' has no output '{name}', which the AutoGlm model contract requires. Its outputs are: {string.Join(", ", _session.Outputs.Select(o => o.Name))}. Rebuild it with 'autoglm build'.");
    }

    /// <summary>The reusable tensors of one decode batch shape (first slot, row count), bound once.</summary>
    private sealed class DecodeBatch : IDisposable
    {
        private readonly OrtValue[] _owned;

        public DecodeBatch(long[] inputIds, long[] positionIds, long[] mask, float[] logits, OrtIoBinding binding, OrtValue[] owned)
        {
            InputIds = inputIds;
            PositionIds = positionIds;
            Mask = mask;
            Logits = logits;
            Binding = binding;
            _owned = owned;
        }

        public long[] InputIds { get; }

        public long[] PositionIds { get; }

        public long[] Mask { get; }

        public float[] Logits { get; }

        public OrtIoBinding Binding { get; }

        public void Dispose()
        {
            Binding.Dispose();
            foreach (OrtValue value in _owned)
            {
                value.Dispose();
            }
        }
    }
}
