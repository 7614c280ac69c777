using System;

namespace Syscalls.Runtime;

/// <summary>Success, or an <see cref="OsError"/>. <c>default</c> is success.</summary>
public readonly struct Result
{
    /// <summary>Wraps an error (a <see cref="ErrorKind.None"/> error is success).</summary>
    public Result(OsError error) => Error = error;

    /// <summary>The success value.</summary>
    public static Result Success => default;

    /// <summary>The error; <see cref="ErrorKind.None"/> on success.</summary>
    public OsError Error { get; }

    /// <summary>True on success.</summary>
    public bool IsSuccess => Error.Kind == ErrorKind.None;

    /// <summary>Throws <see cref="OsException"/> on failure.</summary>
    public void ThrowIfFailed() => Error.ThrowIfError();

    /// <summary>A failed result.</summary>
    public static implicit operator Result(OsError error) => new(error);

    /// <inheritdoc/>
    public override string ToString() => IsSuccess ? "Success" : Error.ToString();
}

/// <summary>A value, or an <see cref="OsError"/>.</summary>
/// <typeparam name="T">The value's type.</typeparam>
public readonly struct Result<T>
{
    private readonly T _value;

    /// <summary>A successful result.</summary>
    public Result(T value)
    {
        _value = value;
        Error = default;
    }

    /// <summary>A failed result.</summary>
    public Result(OsError error)
    {
        _value = default!;
        Error = error;
    }

    /// <summary>The error; <see cref="ErrorKind.None"/> on success.</summary>
    public OsError Error { get; }

    /// <summary>True on success.</summary>
    public bool IsSuccess => Error.Kind == ErrorKind.None;

    /// <summary>The value; throws <see cref="OsException"/> on failure.</summary>
    public T Value => IsSuccess ? _value : throw new OsException(Error);

    /// <summary>The value, or <paramref name="fallback"/> on failure.</summary>
    public T GetValueOrDefault(T fallback) => IsSuccess ? _value : fallback;

    /// <summary>Gets the value without throwing.</summary>
    public bool TryGetValue(out T value)
    {
        value = _value;
        return IsSuccess;
    }

    /// <summary>A successful result.</summary>
    public static implicit operator Result<T>(T value) => new(value);

    /// <summary>A failed result.</summary>
    public static implicit operator Result<T>(OsError error) => new(error);

    /// <summary>Drops the value.</summary>
    public Result AsResult() => new(Error);

    /// <inheritdoc/>
    public override string ToString() => IsSuccess ? $"Success({_value})" : Error.ToString();
}
