using System.Net;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Reliability;

/// <summary>Reliability through the running system (the real AppHost).</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class PipelineReliabilityTests(LumikuApp app)
{
    [Fact]
    public async Task FiftyConcurrentSubmits_WithCreditsForSeven_AcceptExactlySeven()
    {
        var user = LumikuAppFixture.NewUser();
        await app.Redis.GetDatabase().StringSetAsync(RedisKeys.Balance(user), 70);
        using var client = await app.CreateApiClientAsync(user);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.PostAsJsonAsync("/v1/generations", new { prompt = $"A portrait of a lighthouse keeper number {i}", width = 256, height = 256 })));

        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Accepted).ToList();
        Assert.Equal(43, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });

        // Everything accepted is delivered and charged once; nothing refused left a trace.
        foreach (var accepted in responses.Where(r => r.StatusCode == HttpStatusCode.Accepted))
        {
            var view = (await accepted.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!;
            Assert.Equal("succeeded", (await client.WaitForTerminalAsync(view.Id)).Status);
        }

        Assert.Equal(0, (int)await app.Redis.GetDatabase().StringGetAsync(RedisKeys.Balance(user)));
        Assert.Equal(7, await app.Redis.GetDatabase().SortedSetLengthAsync(RedisKeys.UserGenerations(user)));
    }

    [Fact]
    public async Task PoisonEntry_IsDeadLettered_AndTheWorkerGoesOn()
    {
        var db = app.Redis.GetDatabase();
        var poisonId = await db.StreamAddAsync(RedisKeys.Stream, [new NameValueEntry("garbage", "\u0000not a job")]);

        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var next = await client.SubmitAsync(new { prompt = "A portrait of a violinist on a rooftop", width = 256, height = 256 });

        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(next.Id)).Status);
        var dead = await db.StreamRangeAsync(RedisKeys.DeadLetterStream);
        Assert.Contains(dead, e => e["entryId"] == poisonId && e["reason"] == "malformed_entry");
        Assert.Empty(await db.StreamPendingMessagesAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, 10, RedisValue.Null, poisonId, poisonId));
    }
}
