using System;

namespace Syscalls.Runtime;

/// <summary>A loop driver's targets by slot, each slot with a generation: the token of a readiness event or the user
/// data of a completion names both, so one meant for a target removed earlier (its slot perhaps reused since) finds
/// nothing. Loop thread.</summary>
internal sealed class TargetTable<T>
    where T : class
{
    private readonly uint _generationMask;
    private T?[] _targets = new T?[64];
    private uint[] _generations = new uint[64];
    private int[] _free = new int[64];
    private int _freeCount;

    /// <param name="generationMask">The generation bits the token carries (a wrapped generation starts over).</param>
    internal TargetTable(uint generationMask)
    {
        _generationMask = generationMask;
        for (int i = _targets.Length - 1; i >= 0; i--)
            _free[_freeCount++] = i;
    }

    /// <summary>Takes a slot for <paramref name="target"/> with the slot's next generation.</summary>
    internal (int Slot, uint Generation) Add(T target)
    {
        if (_freeCount == 0)
            Grow();
        int slot = _free[--_freeCount];
        uint generation = _generations[slot] = (_generations[slot] + 1) & _generationMask;
        _targets[slot] = target;
        return (slot, generation);
    }

    /// <summary>The target in <paramref name="slot"/> if it still has <paramref name="generation"/>, else null.</summary>
    internal T? Find(int slot, uint generation)
        => (uint)slot < (uint)_targets.Length && _generations[slot] == generation ? _targets[slot] : null;

    /// <summary>Frees the slot if it still holds that generation's target; later look-ups with it find nothing.</summary>
    internal void Remove(int slot, uint generation)
    {
        if (Find(slot, generation) is null)
            return;
        _targets[slot] = null;
        _free[_freeCount++] = slot;
    }

    private void Grow()
    {
        int old = _targets.Length;
        Array.Resize(ref _targets, old * 2);
        Array.Resize(ref _generations, old * 2);
        Array.Resize(ref _free, old * 2);
        for (int i = old * 2 - 1; i >= old; i--)
            _free[_freeCount++] = i;
    }
}
