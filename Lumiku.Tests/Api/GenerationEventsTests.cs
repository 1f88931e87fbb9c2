using Lumiku.Generation;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Server-Sent Events: the current state first, every change after it, the end on a terminal state.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class GenerationEventsTests(LumikuApp app)
{
    [Fact]
    public async Task FallbackJob_DeliversQueuedProcessingFallbackSucceeded_InOrder()
    {
        var user = LumikuAppFixture.NewUser("sse");
        using var client = await app.CreateApiClientAsync(user);
        var store = app.Store();
        var id = await app.SeedQueuedAsync(user);

        using var response = await client.OpenEventsAsync(id);
        var events = new List<(string Type, GenerationView Generation)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var reader = response.ReadEventsAsync().GetAsyncEnumerator(timeout.Token);

        // Drive the record as the worker does after FLUX.1-dev answered 400 and FLUX.1-schnell painted it.
        Assert.True(await reader.MoveNextAsync());
        events.Add(reader.Current);
        var started = await store.StartAsync(id, user, "0-1", "test-consumer", maxAttempts: 5);
        Assert.True(await reader.MoveNextAsync());
        events.Add(reader.Current);
        Assert.NotNull(await store.CompleteAsync(started.Generation!, default, FluxModels.Schnell, fellBack: true,
            primaryError: "400 Bad Request: Model black-forest-labs/FLUX.1-dev requires a PRO subscription", "image/png", 1234));
        while (await reader.MoveNextAsync())
        {
            events.Add(reader.Current);
        }

        Assert.Equal(["queued", "processing", "fallback", "succeeded"], events.Select(e => e.Type));
        var fallback = events[2].Generation;
        Assert.True(fallback.FellBack);
        Assert.Equal("flux-dev", fallback.Model);
        Assert.Equal("flux-schnell", fallback.ModelUsed);
        var succeeded = events[3].Generation;
        Assert.Equal(5, succeeded.Cost.Charged);
        Assert.Equal($"/v1/avatars/{id}/image", succeeded.ImageUrl);
    }

    [Fact]
    public async Task FailedJob_EndsWithFailed_CarryingTheErrorAndTheRefund()
    {
        var user = LumikuAppFixture.NewUser("sse");
        using var client = await app.CreateApiClientAsync(user);
        var store = app.Store();
        var id = await app.SeedQueuedAsync(user);
        var started = await store.StartAsync(id, user, "0-1", "test-consumer", maxAttempts: 5);

        using var response = await client.OpenEventsAsync(id);
        await using var reader = response.ReadEventsAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal("processing", reader.Current.Type);

        await store.FailAsync(started.Generation!, default, "provider_unavailable", "FLUX.1-dev answered 503 (model loading) too many times.");
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal("failed", reader.Current.Type);
        Assert.Equal("provider_unavailable", reader.Current.Generation.Error!.Code);
        Assert.Equal("ai_provider", reader.Current.Generation.Error.Category);
        Assert.Equal(10, reader.Current.Generation.Cost.Refunded);
        Assert.False(await reader.MoveNextAsync());
    }

    [Fact]
    public async Task RealJob_EndsWithSucceeded_AfterAnOrderedSuffixOfQueuedAndProcessing()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("sse"));
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a violinist on a rainy street", width = 256, height = 256 });

        using var response = await client.OpenEventsAsync(accepted.Id);
        var types = new List<string>();
        await foreach (var (type, generation) in response.ReadEventsAsync())
        {
            types.Add(type);
            Assert.Equal(accepted.Id, generation.Id);
            Assert.Equal(type, generation.Status);
        }

        Assert.Equal("succeeded", types[^1]);
        string[] order = ["queued", "processing", "succeeded"];
        Assert.Equal(order[^types.Count..], types);
    }

    [Fact]
    public async Task LateSubscriber_GetsTheTerminalStateAtOnce_AndTheStreamEnds()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("sse"));
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a gardener among sunflowers", width = 256, height = 256 });
        await client.WaitForTerminalAsync(accepted.Id);

        using var response = await client.OpenEventsAsync(accepted.Id);
        var events = new List<string>();
        await foreach (var (type, _) in response.ReadEventsAsync())
        {
            events.Add(type);
        }

        Assert.Equal(["succeeded"], events);
    }
}
