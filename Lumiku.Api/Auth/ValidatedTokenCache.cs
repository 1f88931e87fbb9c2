using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;

namespace Lumiku.Api.Auth;

/// <summary>
/// Bearer tokens that passed full validation, remembered until they expire (5 minutes at most), so a
/// client sending the same token on every request pays for signature checking and claims parsing
/// once: that was 13 % of the api's CPU per request in a profile (docs/performance.md).
/// </summary>
/// <remarks>
/// The key is the whole token, signature included: a token that differs in any byte is a miss and
/// is validated in full. An entry never outlives the token's own <c>exp</c> (validation would
/// accept it up to the 30 s clock skew longer). The signing keys are fixed for the process's
/// lifetime, so no key rotation can leave a stale entry behind. At most <see cref="MaxEntries"/>
/// tokens are kept; past that the cache compacts and new tokens are validated every time.
/// </remarks>
public sealed class ValidatedTokenCache(TimeProvider time) : IDisposable
{
    public const int MaxEntries = 10_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries, Clock = new SystemClockAdapter(time) });

    /// <summary>A copy of the principal of <paramref name="token"/> if it was validated and has not expired.</summary>
    public bool TryGet(string token, [NotNullWhen(true)] out ClaimsPrincipal? principal)
    {
        // A copy per request: nothing downstream can change the cached one.
        principal = _cache.TryGetValue(token, out ClaimsPrincipal? cached) ? Copy(cached!) : null;
        return principal is not null;
    }

    /// <summary>Remember a validated token until <paramref name="validTo"/> (UTC) or <see cref="MaxAge"/> from now, whichever is first.</summary>
    public void Add(string token, ClaimsPrincipal principal, DateTime validTo)
    {
        var now = time.GetUtcNow();
        var until = new DateTimeOffset(DateTime.SpecifyKind(validTo, DateTimeKind.Utc));
        if (until > now + MaxAge)
        {
            until = now + MaxAge;
        }

        if (until > now)
        {
            _cache.Set(token, Copy(principal), new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
        }
    }

    /// <summary>A deep copy: <see cref="ClaimsPrincipal.Clone"/> shares the identities (and their claim lists).</summary>
    private static ClaimsPrincipal Copy(ClaimsPrincipal principal) => new(principal.Identities.Select(i => i.Clone()));

    public void Dispose() => _cache.Dispose();

    /// <summary>MemoryCache reads its clock through ISystemClock; this one follows the TimeProvider (tests advance it).</summary>
    private sealed class SystemClockAdapter(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
