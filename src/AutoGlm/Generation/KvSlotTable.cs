namespace AutoGlm.Generation;

/// <summary>
/// Where running sequences' KV lives: which decoder slots are taken and how many KV positions of the budget
/// they reserve. A sequence is placed when it is admitted and removed when it retires; placement either
/// succeeds whole (slot, reservation and the decoder's allocation) or leaves nothing behind.
/// </summary>
/// <remarks>Not thread-safe: only the scheduler loop places and removes; <see cref="Budget"/> may be read from any thread.</remarks>
internal sealed class KvSlotTable
{
    private readonly IBatchDecoder _decoder;
    private readonly bool[] _inUse;

    /// <summary>Creates the table over <paramref name="decoder"/>'s slots with a budget of <paramref name="budgetTokens"/> positions.</summary>
    public KvSlotTable(IBatchDecoder decoder, int budgetTokens)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        _decoder = decoder;
        _inUse = new bool[decoder.MaxBatchSize];
        Budget = new KvCacheBudget(budgetTokens);
    }

    /// <summary>Gets the KV budget the placed sequences share.</summary>
    public KvCacheBudget Budget { get; }

    /// <summary>Gets the number of slots in use.</summary>
    public int SlotsInUse { get; private set; }

    /// <summary>
    /// Places a sequence reserving <paramref name="reservation"/> positions if a slot and that much budget are
    /// free now; returns -1 (with nothing taken) when they are not.
    /// </summary>
    /// <exception cref="Exception">The decoder failed to allocate the slot; nothing stays taken.</exception>
    public int TryPlace(int reservation)
    {
        int slot = Array.IndexOf(_inUse, false);
        if (slot < 0 || !Budget.TryReserve(reservation))
        {
            return -1;
        }

        try
        {
            _decoder.AllocateSlot(slot, reservation);
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

    /// <summary>Frees <paramref name="slot"/> and gives back its <paramref name="reservation"/>. Never throws.</summary>
    public void Remove(int slot, int reservation)
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
        Budget.Release(reservation);
    }
}
