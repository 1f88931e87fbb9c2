using System.Net;
using System.Net.Http.Json;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>
/// No sequence of client actions ends in a 5xx: every route that reaches a record through an index
/// (an idempotency key, the user's list, an id the client kept) copes with the record being gone.
/// The real api over HTTP on a real redis-server; the worker's own scripts finish the generation.
/// </summary>
public sealed class ClientSequenceTests(OwnRedisApiFixture fixture) : IClassFixture<OwnRedisApiFixture>
{
    private static readonly object Body = new { prompt = "A portrait of a beekeeper among her hives", width = 256, height = 256 };

    [Fact]
    public async Task IdempotentReplay_AfterTheAvatarWasDeleted_Answers409_AndChargesNothing()
    {
        var user = LumikuAppFixture.NewUser("replay");
        using var client = fixture.Api.CreateClient(user);
        var id = await SubmitAndSucceedAsync(client, user, "avatar-1");
        using (var delete = await client.DeleteAsync($"/v1/avatars/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var replay = await PostWithKeyAsync(client, "avatar-1", Body);
        var problem = await replay.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("https://lumiku.dev/problems/idempotency-replay-deleted", problem.GetProperty("type").GetString());
        Assert.Equal(id, problem.GetProperty("generationId").GetString());

        // The key stays spent: another body is still the documented 422, and nothing was reserved.
        using var other = await PostWithKeyAsync(client, "avatar-1", new { prompt = "A portrait of someone else entirely", width = 256, height = 256 });
        await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(90, credits!.Balance);
        Assert.Single(credits.Ledger, e => e.Type == "reserve");
    }

    [Fact]
    public async Task EveryRouteOnADeletedAvatar_Answers404_AndListsLeaveItOut()
    {
        var user = LumikuAppFixture.NewUser("gone");
        using var client = fixture.Api.CreateClient(user);
        var kept = await SubmitAndSucceedAsync(client, user, null);
        var id = await SubmitAndSucceedAsync(client, user, null);
        (await client.DeleteAsync($"/v1/avatars/{id}")).Dispose();

        await (await client.GetAsync($"/v1/generations/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.PostAsync($"/v1/generations/{id}/cancel", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/v1/generations/{id}/events")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/v1/avatars/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/v1/avatars/{id}/image")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.PatchAsJsonAsync($"/v1/avatars/{id}", new { name = "back again" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync($"/v1/avatars/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var generations = await client.GetFromJsonAsync<Page<GenerationView>>("/v1/generations", GenerationPolling.Json);
        Assert.Equal([kept], generations!.Items.Select(g => g.Id));
        var avatars = await client.GetFromJsonAsync<Page<AvatarView>>("/v1/avatars?limit=1", GenerationPolling.Json);
        Assert.Equal([kept], avatars!.Items.Select(a => a.Id));
        Assert.Null(avatars.NextCursor);
    }

    [Fact]
    public async Task ListWhoseIndexPointsAtAMissingRecord_SkipsIt()
    {
        // An index entry without its record (a record lost while its list entry was not): the list
        // and the id's own routes answer as if it never existed.
        var user = LumikuAppFixture.NewUser("orphan");
        using var client = fixture.Api.CreateClient(user);
        var id = (await client.SubmitAsync(Body)).Id;
        var orphan = GenerationStore.NewId();
        var redis = await fixture.Api.DatabaseAsync();
        await redis.SortedSetAddAsync(RedisKeys.UserGenerations(user), orphan, DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());

        var generations = await client.GetFromJsonAsync<Page<GenerationView>>("/v1/generations", GenerationPolling.Json);
        Assert.Equal([id], generations!.Items.Select(g => g.Id));
        await (await client.GetAsync($"/v1/generations/{orphan}/events")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.PostAsync($"/v1/generations/{orphan}/cancel", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    /// <summary>Submits through the api, then runs the worker's Start and Complete scripts on it.</summary>
    private async Task<string> SubmitAndSucceedAsync(HttpClient client, string user, string? idempotencyKey)
    {
        using var response = await PostWithKeyAsync(client, idempotencyKey, Body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!.Id;

        var store = await fixture.Api.StoreAsync();
        var redis = await fixture.Api.DatabaseAsync();
        var entryId = await redis.HashGetAsync(RedisKeys.Generation(id), "entryId");
        var started = await store.StartAsync(id, user, entryId, "test-worker", maxAttempts: 5);
        Assert.Equal(StartVerdict.Process, started.Verdict);
        Assert.Equal(10, await store.CompleteAsync(started.Generation!, entryId, FluxModels.Dev, fellBack: false, null, "image/png", 100));
        return id;
    }

    private static async Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string? idempotencyKey, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    private sealed record Page<T>(List<T> Items, string? NextCursor);
}
