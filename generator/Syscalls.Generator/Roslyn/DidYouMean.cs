using System;
using System.Collections.Generic;

namespace Syscalls.Generator.Roslyn;

/// <summary>The closest known name to a misspelled one: optimal-string-alignment distance, case-insensitive.</summary>
internal static class DidYouMean
{
    /// <summary>The best candidate within <c>max(1, length / 3)</c> edits, or null. A case-only difference always wins.</summary>
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue, bestExact = int.MaxValue;
        int limit = Math.Max(1, name.Length / 3);
        foreach (var c in candidates)
        {
            if (Math.Abs(c.Length - name.Length) > limit)
            {
                continue;
            }
            int d = Distance(name, c);
            if (d > limit)
            {
                continue;
            }
            // Rank by edits ignoring case (a case-only difference is 0), then by edits with case, then ordinally.
            int exact = Distance(name, c, ignoreCase: false);
            if (d < bestDistance || (d == bestDistance && (exact < bestExact || (exact == bestExact && string.CompareOrdinal(c, best) < 0))))
            {
                best = c;
                bestDistance = d;
                bestExact = exact;
            }
        }
        return best;
    }

    /// <summary>
    /// A pattern's likely intent: the prefix of some known name closest to <paramref name="prefix"/>, as a pattern.
    /// </summary>
    public static string? SuggestPrefix(string prefix, IEnumerable<string> names)
    {
        // Prefixes as long as the pattern's or one longer (epol_* -> epoll_*); shorter ones would match too much.
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
        {
            for (int len = prefix.Length; len <= Math.Min(n.Length, prefix.Length + 1); len++)
            {
                prefixes.Add(n.Substring(0, len));
            }
        }
        string? best = null;
        (int, int, int) bestRank = (int.MaxValue, 0, 0);
        int limit = Math.Max(1, prefix.Length / 3);
        foreach (var p in prefixes)
        {
            int d = Distance(prefix, p);
            var rank = (d, Distance(prefix, p, ignoreCase: false), -p.Length);
            if (d <= limit && (best is null || rank.CompareTo(bestRank) < 0 || (rank.Equals(bestRank) && string.CompareOrdinal(p, best) < 0)))
            {
                best = p;
                bestRank = rank;
            }
        }
        return best is null ? null : best + "*";
    }

    /// <summary>Edits (insert, delete, substitute, swap neighbours) between two names.</summary>
    public static int Distance(string a, string b, bool ignoreCase = true)
    {
        char Fold(char c) => ignoreCase ? char.ToLowerInvariant(c) : c;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = Fold(a[i - 1]) == Fold(b[j - 1]) ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && Fold(a[i - 1]) == Fold(b[j - 2]) && Fold(a[i - 2]) == Fold(b[j - 1]))
                {
                    v = Math.Min(v, d[i - 2, j - 2] + 1);
                }
                d[i, j] = v;
            }
        }
        return d[a.Length, b.Length];
    }
}
