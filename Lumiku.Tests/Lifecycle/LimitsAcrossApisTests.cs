using System.Net;
using System.Net.Http.Json;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Lifecycle;

/// <summary>The per-user limits are counted in Redis: two api processes on one Redis give a user each limit once.</summary>
public sealed class LimitsAcrossApisTests(TwoApisFixture apis) : IClassFixture<TwoApisFixture>
{
    private static readonly object ValidBody = new { prompt = "A portrait of a very patient person", model = "flux-schnell" };

    [Fact]
    public async Task SubmissionLimit_IsOnceAcrossTwoApis_NotOncePerApi()
    {
        var user = LumikuAppFixture.NewUser("twice");
        using var first = TwoApisFixture.Client(apis.First, user);
        using var second = TwoApisFixture.Client(apis.Second, user);

        // Invalid bodies use permits and cost nothing: alternate between the two processes.
        for (var i = 0; i < TwoApisFixture.SubmissionsPerWindow; i++)
        {
            using var allowed = await (i % 2 == 0 ? first : second).PostAsJsonAsync("/v1/generations", new { prompt = "short" });
            Assert.Equal(HttpStatusCode.BadRequest, allowed.StatusCode);
        }

        foreach (var client in new[] { first, second })
        {
            using var limited = await client.PostAsJsonAsync("/v1/generations", ValidBody);
            var problem = await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
            Assert.Equal("https://lumiku.dev/problems/rate-limited", problem.GetProperty("type").GetString());
            Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        }
    }

    [Fact]
    public async Task ListReads_AreLimitedOnceAcrossTwoApis_OverEveryListRoute()
    {
        var user = LumikuAppFixture.NewUser("lister");
        using var first = TwoApisFixture.Client(apis.First, user);
        using var second = TwoApisFixture.Client(apis.Second, user);
        string[] routes = ["/v1/generations", "/v1/avatars", "/v1/credits/ledger"];
        for (var i = 0; i < TwoApisFixture.ListReadsPerWindow; i++)
        {
            using var allowed = await (i % 2 == 0 ? first : second).GetAsync(routes[i % routes.Length]);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await first.GetAsync("/v1/avatars");
        var problem = await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("list reads", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        // One generation by id is not a list read.
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await second.GetAsync("/v1/generations/0123456789abcdef")).StatusCode);
    }

    [Fact]
    public async Task UnfinishedCap_AnswersTooManyRequests_WithRetryAfter_AndChargesNothing_UntilOneFinishes()
    {
        var user = LumikuAppFixture.NewUser("busy");
        using var first = TwoApisFixture.Client(apis.First, user);
        using var second = TwoApisFixture.Client(apis.Second, user);
        var ids = new List<string>();
        for (var i = 0; i < TwoApisFixture.MaxUnfinishedJobs; i++)
        {
            using var accepted = await (i % 2 == 0 ? first : second).PostAsJsonAsync("/v1/generations", ValidBody);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            ids.Add((await accepted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!);
        }

        var balance = await apis.Store().GetBalanceAsync(user);
        using var refused = await second.PostAsJsonAsync("/v1/generations", ValidBody);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("https://lumiku.dev/problems/too-many-unfinished", problem.GetProperty("type").GetString());
        Assert.Equal(TwoApisFixture.MaxUnfinishedJobs, problem.GetProperty("maxUnfinishedJobs").GetInt32());
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(balance, await apis.Store().GetBalanceAsync(user));

        // One finished (canceled) makes room for exactly one more.
        using var cancel = await first.PostAsync($"/v1/generations/{ids[0]}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        using var again = await first.PostAsJsonAsync("/v1/generations", ValidBody);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        using var full = await second.PostAsJsonAsync("/v1/generations", ValidBody);
        await full.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        await apis.Redis.AssertLedgerBalancedAsync(apis.Store(), user);
    }

    [Fact]
    public async Task EventStreams_AreCappedPerUser_AcrossApis_AndAClosedOneIsReleased()
    {
        var user = LumikuAppFixture.NewUser("sse");
        var id = await SeedQueuedAsync(user);
        using var first = TwoApisFixture.Client(apis.First, user);
        using var second = TwoApisFixture.Client(apis.Second, user);

        var open = new List<HttpResponseMessage>();
        for (var i = 0; i < TwoApisFixture.MaxEventStreams; i++)
        {
            var stream = await (i % 2 == 0 ? first : second).GetAsync($"/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            open.Add(stream);
        }

        using var refused = await first.GetAsync($"/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("https://lumiku.dev/problems/too-many-event-streams", problem.GetProperty("type").GetString());
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);

        // A client that leaves gives its stream back (the release runs when the server notices).
        open[0].Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        HttpResponseMessage? reopened = null;
        while (reopened is null)
        {
            var attempt = await second.GetAsync($"/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (attempt.StatusCode == HttpStatusCode.OK)
            {
                reopened = attempt;
            }
            else
            {
                attempt.Dispose();
                await Task.Delay(50, timeout.Token);
            }
        }

        reopened.Dispose();
        open[1].Dispose();
    }

    private async Task<string> SeedQueuedAsync(string user)
    {
        var submitted = await apis.Store().SubmitAsync(new Lumiku.Generation.NewGeneration(user, "A seeded portrait to follow", null, 256, 256, null, Lumiku.Generation.FluxModels.Schnell));
        return submitted.GenerationId!;
    }
}
