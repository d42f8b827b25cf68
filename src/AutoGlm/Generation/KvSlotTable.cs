namespace AutoGlm.Generation;

/// <summary>
/// Where sequences' KV lives: which decoder slots are taken, how many KV positions of the budget they hold,
/// and (with prefix reuse) which finished sequences' KV is kept idle for a later prompt that starts the same way.
/// A sequence is placed when it is admitted and removed or parked when it retires; placement either succeeds
/// whole (slot, reservation and the decoder's allocation) or leaves nothing behind.
/// </summary>
/// <remarks>
/// <para>
/// Prefix reuse: a parked slot keeps the KV of the tokens its sequence fed (prompt and output but the last) and
/// holds exactly that many positions of the budget. A new prompt takes the parked slot sharing its longest token
/// prefix (matched on the tokens alone, so a conversation's next turn or a shared system prompt is found without
/// any id) and starts after that prefix. Parked slots are evicted least recently used first whenever a slot or
/// budget is needed for a running sequence, so they never keep a request waiting.
/// </para>
/// <para>Not thread-safe: only the scheduler loop uses it; <see cref="Budget"/> may be read from any thread.</para>
/// </remarks>
internal sealed class KvSlotTable
{
    private readonly IBatchDecoder _decoder;
    private readonly bool[] _inUse;
    private readonly List<ParkedSlot> _parked = [];
    private long _clock;

    /// <summary>Creates the table over <paramref name="decoder"/>'s slots with a budget of <paramref name="budgetTokens"/> positions.</summary>
    public KvSlotTable(IBatchDecoder decoder, int budgetTokens)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        _decoder = decoder;
        _inUse = new bool[decoder.MaxBatchSize];
        Budget = new KvCacheBudget(budgetTokens);
    }

    /// <summary>Gets the KV budget the placed (and parked) sequences share.</summary>
    public KvCacheBudget Budget { get; }

    /// <summary>Gets the number of slots in use, parked ones included.</summary>
    public int SlotsInUse { get; private set; }

    /// <summary>Gets the number of parked slots.</summary>
    public int ParkedCount => _parked.Count;

    /// <summary>
    /// Gets or sets what tells whether parked KV (its first <c>length</c> tokens) is the whole start of a request still
    /// waiting — a conversation's next turn queued behind others. Eviction takes such KV last: under load a turn waits
    /// in the queue for seconds, and least-recently-used alone evicted exactly the conversations about to come back.
    /// Null: least recently used only.
    /// </summary>
    public Func<int[], int, bool>? IsAwaited { get; set; }

    /// <summary>
    /// Places a sequence reserving <paramref name="reservation"/> positions if a slot and that much budget are
    /// free now; returns -1 (with nothing taken) when they are not.
    /// </summary>
    /// <exception cref="Exception">The decoder failed to allocate the slot; nothing stays taken.</exception>
    public int TryPlace(int reservation) => TryPlace(reservation, reservation, [], out _);

    /// <summary>
    /// Places a sequence with <paramref name="prompt"/> reserving <paramref name="reservation"/> positions (the decoder
    /// slot is prepared for up to <paramref name="capacity"/>, the most the sequence can ever hold), reusing
    /// the parked slot whose KV shares the longest prefix with the prompt (at most all but its last token, which
    /// must be fed to get logits); evicts parked slots, least recently used first, when a slot or budget is short.
    /// Returns the slot and, in <paramref name="reusedTokens"/>, how many prompt positions it already holds; -1 when
    /// nothing can be placed now even with every parked slot evicted.
    /// </summary>
    /// <exception cref="Exception">The decoder failed to allocate or reuse the slot; nothing stays taken.</exception>
    public int TryPlace(int reservation, int capacity, ReadOnlySpan<int> prompt, out int reusedTokens)
    {
        reusedTokens = 0;
        int best = -1;
        int bestLength = 0;
        for (int i = 0; i < _parked.Count; i++)
        {
            int length = CommonPrefix(_parked[i].Tokens.AsSpan(0, _parked[i].Length), prompt[..Math.Max(prompt.Length - 1, 0)]);
            if (length > bestLength)
            {
                best = i;
                bestLength = length;
            }
        }

        if (best >= 0)
        {
            ParkedSlot parked = _parked[best];
            _parked.RemoveAt(best);

            // A prompt that shares only the start of exported KV (typically another conversation's system prompt)
            // copies that start and leaves the KV parked for the conversation it belongs to; one that continues all
            // of it (the conversation's next turn) takes it over, with its positions of the budget.
            bool copy = parked.Kv is not null && bestLength < parked.Length;
            int extra = copy ? reservation : reservation - parked.Length;
            int target = parked.Kv is null ? parked.Slot : FreeSlotEvictingInSlotParked();
            if (target < 0)
            {
                // Every slot runs a sequence: the exported KV waits with the request for the next free slot.
                _parked.Add(parked);
                return -1;
            }

            // While it is out of the list, eviction to make room cannot take the KV about to be copied.
            if (extra <= 0 || ReserveEvicting(extra))
            {
                if (extra < 0)
                {
                    Budget.Release(-extra);
                }

                try
                {
                    if (parked.Kv is { } kv)
                    {
                        _decoder.AllocateSlot(target, capacity);
                        _inUse[target] = true;
                        SlotsInUse++;
                        _decoder.ImportSlot(target, kv, bestLength);
                        if (copy)
                        {
                            _parked.Add(parked);
                        }
                        else
                        {
                            kv.Dispose();
                        }
                    }
                    else
                    {
                        _decoder.ReuseSlot(target, capacity, bestLength);
                    }
                }
                catch
                {
                    Budget.Release(reservation);
                    if (copy)
                    {
                        _parked.Add(parked);
                    }
                    else
                    {
                        parked.Kv?.Dispose();
                    }

                    if (_inUse[target])
                    {
                        FreeSlot(target);
                    }

                    throw;
                }

                reusedTokens = bestLength;
                return target;
            }

            // Not enough budget even with every other parked sequence gone: drop this one too and try cold.
            Evict(parked);
        }

        int slot = FreeSlotEvictingInSlotParked();
        if (slot < 0 || !ReserveEvicting(reservation))
        {
            return -1;
        }

        try
        {
            _decoder.AllocateSlot(slot, capacity);
        }
        catch
        {
            Budget.Release(reservation);
            throw;
        }

        _inUse[slot] = true;
        SlotsInUse++;
        return slot;
    }

    /// <summary>
    /// Keeps <paramref name="slot"/>'s KV for reuse: it holds the first <paramref name="length"/> of
    /// <paramref name="tokens"/>, and its <paramref name="reservation"/> shrinks to that length.
    /// </summary>
    public void Park(int slot, int reservation, int[] tokens, int length)
    {
        // A slot filled to the context end may have its last position overwritten by a filler row.
        length = Math.Min(length, _decoder.MaxSequenceLength - 1);
        if (length <= 0)
        {
            Remove(slot, reservation);
            return;
        }

        Budget.Release(reservation - length);
        ParkedKv? kv = null;
        try
        {
            kv = _decoder.ExportSlot(slot, length);
        }
#pragma warning disable CA1031 // A failed copy costs only the reuse: the slot itself is parked instead.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        if (kv is not null)
        {
            // The KV waits outside the slots, so parked sequences never keep a running one out of a slot.
            FreeSlot(slot);
            _parked.Add(new ParkedSlot(-1, tokens, length, ++_clock, kv));
        }
        else
        {
            _parked.Add(new ParkedSlot(slot, tokens, length, ++_clock, null));
        }
    }

    /// <summary>Frees <paramref name="slot"/> and gives back its <paramref name="reservation"/>. Never throws.</summary>
    public void Remove(int slot, int reservation)
    {
        FreeSlot(slot);
        Budget.Release(reservation);
    }

    /// <summary>
    /// Reserves <paramref name="tokens"/> more positions for a running sequence, evicting parked slots (least recently
    /// used first) when the budget is short; <see langword="false"/> (with nothing taken) when even that is not enough.
    /// </summary>
    public bool TryGrow(int tokens) => ReserveEvicting(tokens);

    /// <summary>Evicts every parked slot. Never throws.</summary>
    public void EvictAll()
    {
        while (_parked.Count > 0)
        {
            EvictLeastRecent();
        }
    }

    private bool ReserveEvicting(int tokens)
    {
        while (!Budget.TryReserve(tokens))
        {
            if (_parked.Count == 0)
            {
                return false;
            }

            EvictLeastRecent();
        }

        return true;
    }

    private void EvictLeastRecent()
    {
        int victim = Victim(inSlotOnly: false);
        ParkedSlot parked = _parked[victim];
        _parked.RemoveAt(victim);
        Evict(parked);
    }

    // The parked entry to evict: the least recently used of those no queued request continues, else of all; -1 if none qualifies.
    private int Victim(bool inSlotOnly)
    {
        int oldest = -1;
        int oldestAwaited = -1;
        for (int i = 0; i < _parked.Count; i++)
        {
            ParkedSlot candidate = _parked[i];
            if (inSlotOnly && candidate.Kv is not null)
            {
                continue;
            }

            if (IsAwaited?.Invoke(candidate.Tokens, candidate.Length) == true)
            {
                if (oldestAwaited < 0 || candidate.LastUse < _parked[oldestAwaited].LastUse)
                {
                    oldestAwaited = i;
                }
            }
            else if (oldest < 0 || candidate.LastUse < _parked[oldest].LastUse)
            {
                oldest = i;
            }
        }

        return oldest >= 0 ? oldest : oldestAwaited;
    }

    private void Evict(ParkedSlot parked)
    {
        if (parked.Kv is { } kv)
        {
            kv.Dispose();
        }
        else
        {
            FreeSlot(parked.Slot);
        }

        Budget.Release(parked.Length);
    }

    // A free slot, evicting sequences parked in slots (least recently used first) when none is; -1 when every slot runs.
    private int FreeSlotEvictingInSlotParked()
    {
        int slot = Array.IndexOf(_inUse, false);
        while (slot < 0)
        {
            int oldest = Victim(inSlotOnly: true);
            if (oldest < 0)
            {
                return -1;
            }

            ParkedSlot parked = _parked[oldest];
            _parked.RemoveAt(oldest);
            Evict(parked);
            slot = Array.IndexOf(_inUse, false);
        }

        return slot;
    }

    private void FreeSlot(int slot)
    {
        try
        {
            _decoder.FreeSlot(slot);
        }
#pragma warning disable CA1031 // Freeing never throws by contract; if it does, the slot is still given back.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        _inUse[slot] = false;
        SlotsInUse--;
    }

    private static int CommonPrefix(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.CommonPrefixLength(b);

    // Slot is -1 when the KV was exported (Kv holds it); otherwise the slot itself is kept.
    private readonly record struct ParkedSlot(int Slot, int[] Tokens, int Length, long LastUse, ParkedKv? Kv);
}
