using System.Net;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Submissions are limited per user (RateLimits:SubmissionsPerWindow: 10 a minute by default, 60 in the test app).</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class RateLimitTests(LumikuApp app)
{
    [Fact]
    public async Task OverTheLimit_TooManyRequests_WithRetryAfter_OnlyForThatUser()
    {
        using var greedy = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("greedy"));
        using var other = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("other"));

        // Invalid bodies use permits too (the limiter runs first), and cost no credits.
        for (var i = 0; i < LumikuApp.SubmissionsPerWindow; i++)
        {
            using var allowed = await greedy.PostAsJsonAsync("/v1/generations", new { prompt = "short" });
            Assert.Equal(HttpStatusCode.BadRequest, allowed.StatusCode);
        }

        using var limited = await greedy.PostAsJsonAsync("/v1/generations", new { prompt = "A portrait of a very patient person" });
        var problem = await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("https://lumiku.dev/problems/rate-limited", problem.GetProperty("type").GetString());
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        using var unaffected = await other.PostAsJsonAsync("/v1/generations", new { prompt = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, unaffected.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await greedy.GetAsync("/v1/credits")).StatusCode);
    }
}
