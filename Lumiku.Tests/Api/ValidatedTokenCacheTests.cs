using System.Security.Claims;
using Lumiku.Api.Auth;
using Microsoft.Extensions.Time.Testing;

namespace Lumiku.Tests.Api;

public sealed class ValidatedTokenCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static ClaimsPrincipal Principal(string user) => new(new ClaimsIdentity([new Claim("sub", user)], "Bearer", "sub", "role"));

    [Fact]
    public void AnEntryNeverOutlivesItsToken()
    {
        var time = new FakeTimeProvider(Start);
        using var cache = new ValidatedTokenCache(time);
        cache.Add("token-a", Principal("u1"), Start.AddMinutes(1).UtcDateTime);

        Assert.True(cache.TryGet("token-a", out var principal));
        Assert.Equal("u1", principal.FindFirstValue("sub"));

        time.Advance(TimeSpan.FromSeconds(61));
        Assert.False(cache.TryGet("token-a", out _));
    }

    [Fact]
    public void ALongLivedTokenIsRememberedFiveMinutesAtMost_AndAnExpiredOneNotAtAll()
    {
        var time = new FakeTimeProvider(Start);
        using var cache = new ValidatedTokenCache(time);
        cache.Add("long", Principal("u1"), Start.AddHours(6).UtcDateTime);
        cache.Add("expired", Principal("u2"), Start.AddSeconds(-1).UtcDateTime);

        Assert.False(cache.TryGet("expired", out _));
        time.Advance(ValidatedTokenCache.MaxAge - TimeSpan.FromSeconds(1));
        Assert.True(cache.TryGet("long", out _));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("long", out _));
    }

    [Fact]
    public void AHitIsACopy_ChangingItDoesNotChangeTheCachedPrincipal()
    {
        using var cache = new ValidatedTokenCache(new FakeTimeProvider(Start));
        cache.Add("token", Principal("u1"), Start.AddMinutes(1).UtcDateTime);

        Assert.True(cache.TryGet("token", out var first));
        ((ClaimsIdentity)first.Identity!).AddClaim(new Claim("role", "admin"));

        Assert.True(cache.TryGet("token", out var second));
        Assert.False(second.IsInRole("admin"));
        Assert.False(cache.TryGet("token-with-another-signature", out _));
    }
}
