using System;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// Names the span and in/ref overloads (<c>LibC.recv</c>, <c>Ws2_32.WSARecv</c>) a call test calls, so that
/// <see cref="OverloadCoverageTests"/> can hold every overload the bindings emit for the host OS to a real call.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CallsOverloadAttribute(params string[] names) : Attribute
{
    public string[] Names { get; } = names;
}
