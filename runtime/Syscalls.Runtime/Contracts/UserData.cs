using System;

namespace Syscalls.Runtime;

/// <summary>The 64-bit tag of a ring operation, echoed by its completions: a slot, a generation and a small
/// caller-defined tag, so that a late completion for a slot that has since been reused is recognised.</summary>
/// <remarks>Layout: bits 0-31 slot, bits 32-55 generation (24 bits, wraps), bits 56-63 tag.
/// Maps to <c>io_uring_sqe.user_data</c>, <c>kevent.udata</c>, the IOCP completion key / OVERLAPPED owner.</remarks>
public readonly struct UserData : IEquatable<UserData>
{
    /// <summary>Largest generation value; generations wrap to 0 after it.</summary>
    public const uint MaxGeneration = 0xFF_FFFF;

    /// <summary>Wraps a raw 64-bit value.</summary>
    public UserData(ulong value) => Value = value;

    /// <summary>The raw 64-bit value.</summary>
    public ulong Value { get; }

    /// <summary>The slot (bits 0-31).</summary>
    public uint Slot => (uint)Value;

    /// <summary>The generation (bits 32-55).</summary>
    public uint Generation => (uint)(Value >> 32) & MaxGeneration;

    /// <summary>The caller's tag (bits 56-63), e.g. which operation of the slot this is.</summary>
    public byte Tag => (byte)(Value >> 56);

    /// <summary>Packs slot, generation (masked to 24 bits) and tag.</summary>
    public static UserData Create(uint slot, uint generation, byte tag = 0)
        => new(slot | ((ulong)(generation & MaxGeneration) << 32) | ((ulong)tag << 56));

    /// <summary>The same slot and tag with the generation advanced (wrapping).</summary>
    public UserData NextGeneration() => Create(Slot, (Generation + 1) & MaxGeneration, Tag);

    /// <summary>The same slot and generation with another tag.</summary>
    public UserData WithTag(byte tag) => Create(Slot, Generation, tag);

    /// <summary>True when slot and generation match (the tag is ignored): the completion belongs to the current use
    /// of the slot.</summary>
    public bool IsSameUse(UserData other) => (Value & 0x00FF_FFFF_FFFF_FFFF) == (other.Value & 0x00FF_FFFF_FFFF_FFFF);

    /// <inheritdoc/>
    public bool Equals(UserData other) => Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is UserData u && Equals(u);

    /// <inheritdoc/>
    public override int GetHashCode() => Value.GetHashCode();

    /// <summary>Equality.</summary>
    public static bool operator ==(UserData left, UserData right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(UserData left, UserData right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => $"slot {Slot} gen {Generation} tag {Tag}";
}
