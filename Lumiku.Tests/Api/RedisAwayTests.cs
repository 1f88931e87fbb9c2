using System.Net;
using System.Net.Http.Json;
using Lumiku.Generation;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Api;

/// <summary>
/// Redis away is a wait, not a 500: while Redis is stopped or still loading its data, every route
/// that needs it answers 503 with Retry-After and a problem body, the api stays up and reports
/// unhealthy, and it serves again as soon as Redis is back. A real redis-server, stopped and
/// started by the test, under the real api over HTTP.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RedisAwayTests
{
    private static readonly object Submit = new { prompt = "A portrait of a lighthouse keeper at dusk", width = 256, height = 256 };

    [Fact]
    public async Task ApiStartedWhileRedisIsDown_StaysUp_Answers503_ThenServesOnceRedisIsBack()
    {
        await using var api = await OwnRedisApi.StartAsync();
        await api.Server.StopAsync();

        using var client = api.CreateClient(LumikuAppFixture.NewUser("away"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);
        await AssertEveryRedisRouteAnswers503Async(client, GenerationStore.NewId());

        await api.Server.StartAgainAsync();
        var accepted = await SubmitWhenBackAsync(client);
        Assert.Equal("queued", accepted.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/generations/{accepted.Id}")).StatusCode);
        await WaitUntilAsync(async () => (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task RedisStopsUnderARunningApi_Answers503_AndNothingAcceptedIsLost()
    {
        await using var api = await OwnRedisApi.StartAsync();
        using var client = api.CreateClient(LumikuAppFixture.NewUser("blip"));
        var first = await client.SubmitAsync(Submit);

        await api.Server.StopAsync();
        await AssertEveryRedisRouteAnswers503Async(client, first.Id);

        await api.Server.StartAgainAsync();
        var second = await SubmitWhenBackAsync(client);
        Assert.Equal("queued", (await client.GetFromJsonAsync<GenerationView>($"/v1/generations/{first.Id}", GenerationPolling.Json))!.Status);
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(80, credits!.Balance);
        Assert.Equal([second.Id, first.Id], credits.Ledger.Where(e => e.Type == "reserve").Select(e => e.GenerationId));
    }

    [Fact]
    public async Task RedisStillLoadingItsData_Answers503_ThenServesTheLoadedData()
    {
        await using var api = await OwnRedisApi.StartAsync();
        using var client = api.CreateClient(LumikuAppFixture.NewUser("loading"));
        var accepted = await client.SubmitAsync(Submit);
        await WriteManyKeysToTheAppendOnlyFileAsync(api.Server);

        // 50 ms per key while loading (2000 keys: 100 s) keeps Redis answering LOADING for as long as
        // the test needs; it answers between keys because each key is bigger than the event interval.
        await api.Server.StopAsync();
        await api.Server.StartAgainAsync(["--key-load-delay", "50000", "--loading-process-events-interval-bytes", "1024"], waitUntilLoaded: false);
        Assert.True(await api.Server.IsLoadingAsync(), "redis-server should still be loading its data");

        await AssertEveryRedisRouteAnswers503Async(client, accepted.Id);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);

        // An api process that starts now, against the loading Redis, comes up and waits the same way.
        await using var late = new InProcessApi("Production", api.Server.ConnectionString);
        using var lateClient = late.CreateClient().WithToken(client.DefaultRequestHeaders.Authorization!.Parameter!);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await lateClient.GetAsync("/health")).StatusCode);
        await AssertEveryRedisRouteAnswers503Async(lateClient, accepted.Id);
        Assert.True(await api.Server.IsLoadingAsync(), "the answers above must have been given while Redis was loading");

        // Restart without the delay: the data loads at once and both apis serve it.
        await api.Server.KillAsync();
        await api.Server.StartAgainAsync();
        await WaitUntilAsync(async () => (await client.GetAsync($"/v1/generations/{accepted.Id}")).StatusCode == HttpStatusCode.OK);
        await WaitUntilAsync(async () => (await lateClient.GetAsync($"/v1/generations/{accepted.Id}")).StatusCode == HttpStatusCode.OK);
        await SubmitWhenBackAsync(lateClient);
    }

    /// <summary>Every route that reads or writes Redis answers 503 + Retry-After + a problem body, all at once.</summary>
    private static async Task AssertEveryRedisRouteAnswers503Async(HttpClient client, string id)
    {
        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => client.PostAsJsonAsync("/v1/generations", Submit),
            () => client.GetAsync("/v1/generations"),
            () => client.GetAsync($"/v1/generations/{id}"),
            () => client.PostAsync($"/v1/generations/{id}/cancel", null),
            () => client.GetAsync($"/v1/generations/{id}/events"),
            () => client.GetAsync("/v1/avatars"),
            () => client.GetAsync($"/v1/avatars/{id}"),
            () => client.GetAsync($"/v1/avatars/{id}/image"),
            () => client.DeleteAsync($"/v1/avatars/{id}"),
            () => client.GetAsync("/v1/credits"),
        };
        var responses = await Task.WhenAll(requests.Select(r => r()));
        foreach (var response in responses)
        {
            using (response)
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{response.RequestMessage!.RequestUri}: no Retry-After");
                Assert.Equal("https://lumiku.dev/problems/store-unavailable", problem.GetProperty("type").GetString());
            }
        }
    }

    private static async Task<GenerationView> SubmitWhenBackAsync(HttpClient client)
    {
        GenerationView? accepted = null;
        await WaitUntilAsync(async () =>
        {
            using var response = await client.PostAsJsonAsync("/v1/generations", Submit);
            Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"got {(int)response.StatusCode}");
            accepted = response.StatusCode == HttpStatusCode.Accepted ? await response.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json) : null;
            return accepted is not null;
        });
        return accepted!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!await condition())
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    /// <summary>2000 keys of 1.1 KB, rewritten into the AOF's base file (where the load delay applies).</summary>
    private static async Task WriteManyKeysToTheAppendOnlyFileAsync(RedisServer server)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var db = admin.GetDatabase();
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => db.StringSetAsync($"filler:{i}", new string('x', 1100))));
        var redis = admin.GetServer(admin.GetEndPoints()[0]);
        await redis.ExecuteAsync("BGREWRITEAOF");
        await WaitUntilAsync(async () =>
        {
            var persistence = (await redis.InfoAsync("persistence")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
            return persistence["aof_rewrite_in_progress"] == "0" && persistence["aof_rewrite_scheduled"] == "0";
        });
    }
}
