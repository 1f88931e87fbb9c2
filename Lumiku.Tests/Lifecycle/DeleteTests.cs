using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumiku.Api.Apis;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Lifecycle;

/// <summary>
/// A user deletes any finished generation with its image, and can delete their account: every key of
/// theirs goes, the ledger stays under a tombstone and still adds up.
/// </summary>
public sealed class DeleteTests(TwoApisFixture apis) : IClassFixture<TwoApisFixture>
{
    private static NewGeneration Job(string user) => new(user, "A portrait for a lifecycle test", null, 256, 256, null, FluxModels.Schnell);

    [Fact]
    public async Task AFailedGeneration_IsDeleted_WithItsImage_AQueuedOneIsAConflict_AnotherUsersIsNotFound()
    {
        var user = LumikuAppFixture.NewUser("del");
        var store = apis.Store();
        var failed = (await store.SubmitAsync(Job(user))).GenerationId!;
        await apis.FailAfterImageAsync(store, failed);
        var queued = (await store.SubmitAsync(Job(user))).GenerationId!;
        using var client = TwoApisFixture.Client(apis.First, user);
        using var stranger = TwoApisFixture.Client(apis.Second, LumikuAppFixture.NewUser("stranger"));

        using (var notTheirs = await stranger.DeleteAsync($"/v1/generations/{failed}"))
        {
            await notTheirs.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using (var busy = await client.DeleteAsync($"/v1/generations/{queued}"))
        {
            var problem = await busy.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Equal("queued", problem.GetProperty("generationStatus").GetString());
        }

        using (var deleted = await client.DeleteAsync($"/v1/generations/{failed}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var gone = await client.GetAsync($"/v1/generations/{failed}"))
        {
            await gone.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        Assert.Null(await apis.Images.OpenAsync(failed));
        var listed = await client.GetFromJsonAsync<JsonElement>("/v1/generations");
        Assert.Equal([queued], listed.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.False(await apis.Db.SortedSetScoreAsync(RedisKeys.Retention, failed) is not null);
        using var again = await client.DeleteAsync($"/v1/generations/{failed}");
        await again.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ReplayingTheIdempotencyKeyOfADeletedGeneration_Answers409_AndChargesNothing()
    {
        var user = LumikuAppFixture.NewUser("replay");
        using var client = TwoApisFixture.Client(apis.First, user);
        HttpRequestMessage Submit() => new(HttpMethod.Post, "/v1/generations")
        {
            Content = JsonContent.Create(new { prompt = "A portrait submitted twice", model = "flux-schnell" }),
            Headers = { { IdempotencyKeys.Header, "twice-1" } },
        };
        using var first = await client.SendAsync(Submit());
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/v1/generations/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/generations/{id}")).StatusCode);

        var balance = await apis.Db.StringGetAsync(RedisKeys.Balance(user));

        using var again = await client.SendAsync(Submit());

        // The key still names the deleted generation (until its 24 h expiry): a clear 409, never a second charge.
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(balance, await apis.Db.StringGetAsync(RedisKeys.Balance(user)));
    }

    [Fact]
    public async Task DeleteMe_LeavesNoKeyOfTheUser_ButTheTombstonedLedger_WhichStillAddsUp()
    {
        var user = LumikuAppFixture.NewUser("leaver");
        var store = apis.Store();
        using var client = TwoApisFixture.Client(apis.First, user);
        // Through the api: an idempotency key and the rate-limit counters; then a worker's part by hand.
        using var submitted = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/generations")
        {
            Content = JsonContent.Create(new { prompt = "A portrait of someone leaving", model = "flux-schnell" }),
            Headers = { { IdempotencyKeys.Header, "leave-1" } },
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var avatar = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await apis.SucceedAsync(store, avatar);
        var canceled = (await store.SubmitAsync(Job(user))).GenerationId!;
        await store.CancelAsync(canceled, user);
        var running = (await store.SubmitAsync(Job(user))).GenerationId!;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/generations")).StatusCode);

        using (var busy = await client.DeleteAsync("/v1/me"))
        {
            var problem = await busy.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Equal(1, problem.GetProperty("unfinished").GetInt32());
            // The finished ones (the avatar and the canceled one) are deleted already.
            Assert.Equal(2, problem.GetProperty("deletedGenerations").GetInt32());
        }

        await store.CancelAsync(running, user);
        using var response = await client.DeleteAsync("/v1/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var tombstone = body.GetProperty("kept").GetProperty("tombstone").GetString()!;

        var keys = new List<string>();
        await foreach (var key in apis.Redis.Redis.GetServers()[0].KeysAsync(pattern: "*"))
        {
            keys.Add(key!);
        }

        Assert.DoesNotContain(keys, k => k.Contains(user, StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.Contains(avatar, StringComparison.Ordinal) || k.Contains(canceled, StringComparison.Ordinal) || k.Contains(running, StringComparison.Ordinal));
        Assert.Contains(RedisKeys.DeletedLedger(tombstone).ToString(), keys);
        Assert.Null(await apis.Images.OpenAsync(avatar));
        Assert.Equal(1, body.GetProperty("deletedGenerations").GetInt32());

        // The kept ledger: every line, and the closing one that zeroes the balance.
        var ledger = await apis.Db.StreamRangeAsync(RedisKeys.DeletedLedger(tombstone));
        Assert.Equal(body.GetProperty("kept").GetProperty("ledgerEntries").GetInt32(), ledger.Length);
        Assert.Equal(0, ledger.Sum(e => (int)e["amount"]));
        Assert.Equal("closed", (string?)ledger[^1]["type"]);
        Assert.Contains(ledger, e => (string?)e["type"] == "settle" && (string?)e["generationId"] == avatar);
    }
}
