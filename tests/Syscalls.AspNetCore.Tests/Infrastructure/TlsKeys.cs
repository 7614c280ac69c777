using System.Security.Cryptography;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Whether this host can make the test certificate's key. Natively it can; Wine 8's CNG cannot
/// (<c>CngKey.Create</c> fails with NTE_NOT_SUPPORTED, 0x80090029), for Kestrel's Sockets transport as much as for ours,
/// so a TLS case there is skipped with that reason instead of failing on the certificate before any transport runs.</summary>
public static class TlsKeys
{
    private static readonly string? s_unavailable = Probe();

    /// <summary>Skips the calling test when the certificate's key cannot be made here.</summary>
    public static void SkipUnlessAvailable()
    {
        if (s_unavailable is not null)
            Assert.Skip(s_unavailable);
    }

    private static string? Probe()
    {
        try
        {
            using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            key.ExportParameters(includePrivateParameters: false);
            return null;
        }
        catch (CryptographicException e)
        {
            return $"this host cannot make the test certificate's ECDSA P-256 key (CryptographicException 0x{e.HResult:X8}: {e.Message}); Wine 8's CNG lacks it";
        }
    }
}
