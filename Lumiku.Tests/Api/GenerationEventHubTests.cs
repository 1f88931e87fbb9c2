using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Api;

/// <summary>Event streams share one Redis subscription per api process and still each get only their own generation's events.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class GenerationEventHubTests(LumikuApp app)
{
    [Fact]
    public async Task ManyStreams_HoldNoChannelOfTheirOwn_AndEachEndsWithItsOwnTerminalEvent()
    {
        var user = LumikuAppFixture.NewUser("sse-hub");
        using var client = await app.CreateApiClientAsync(user);
        var store = app.Store();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await app.SeedQueuedAsync(user));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var responses = new List<HttpResponseMessage>();
        var readers = new List<IAsyncEnumerator<(string Type, GenerationView Generation)>>();
        foreach (var id in ids)
        {
            var response = await client.OpenEventsAsync(id);
            responses.Add(response);
            var reader = response.ReadEventsAsync().GetAsyncEnumerator(timeout.Token);
            Assert.True(await reader.MoveNextAsync());
            Assert.Equal("queued", reader.Current.Type);
            readers.Add(reader);
        }

        // Four streams open: no per-generation channel on the server, the api's one pattern instead.
        var db = app.Redis.GetDatabase();
        var channels = ((RedisResult[])(await db.ExecuteAsync("PUBSUB", "CHANNELS", RedisKeys.EventsPrefix + "*"))!).Select(c => (string)c!).ToArray();
        Assert.DoesNotContain(channels, c => ids.Any(id => c.EndsWith(id, StringComparison.Ordinal)));
        Assert.True((long)await db.ExecuteAsync("PUBSUB", "NUMPAT") >= 1);

        // End them in reverse order, each with its own error code: every stream sees only its own.
        for (var i = ids.Count - 1; i >= 0; i--)
        {
            var started = await store.StartAsync(ids[i], user, $"0-{i + 1}", "test-consumer", maxAttempts: 5);
            await store.FailAsync(started.Generation!, default, "provider_unavailable", $"job {i}");
        }

        for (var i = 0; i < ids.Count; i++)
        {
            var types = new List<string>();
            while (await readers[i].MoveNextAsync())
            {
                Assert.Equal(ids[i], readers[i].Current.Generation.Id);
                types.Add(readers[i].Current.Type);
            }

            Assert.Equal("failed", types[^1]);
            await readers[i].DisposeAsync();
            responses[i].Dispose();
        }
    }
}
