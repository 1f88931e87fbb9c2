using System.Text.Json;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// The outbox against a real Redis: the state-change scripts queue an event exactly when the change
/// happens and the record's filter asks for it, never for a change that lost its race.
/// </summary>
public sealed class WebhookOutboxTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const string Hook = "https://receiver.example/hooks";

    private readonly GenerationStore _store = redis.CreateStore();

    private Task<(string Id, StackExchange.Redis.StreamEntry Entry)> SubmitAsync(string? webhook, string? events) =>
        redis.SubmitAndReadAsync(_store, new NewGeneration(
            LumikuAppFixture.NewUser(), "A portrait of a ferry captain", null, 512, 512, 7, FluxModels.Dev, Webhook: webhook, WebhookEvents: events));

    private async Task<string[]> OutboxTypesAsync(string id) =>
        [.. (await redis.Redis.GetDatabase().StreamRangeAsync(RedisKeys.WebhookOutbox))
            .Where(e => (string?)e["gen"] == id)
            .Select(e => JsonDocument.Parse((string)e["event"]!).RootElement.GetProperty("type").GetString()!)];

    [Fact]
    public async Task ACancelThatHappens_QueuesOneEvent_ARepeatedCancelAndALateCompleteQueueNone()
    {
        var (id, entry) = await SubmitAsync(Hook, "queued processing succeeded failed canceled");
        var record = (await _store.GetAsync(id))!;

        Assert.True((await _store.CancelAsync(id, record.UserId)).Changed);
        Assert.False((await _store.CancelAsync(id, record.UserId)).Changed);
        Assert.Equal(StartVerdict.AlreadyFinished, (await _store.StartAsync(id, record.UserId, entry.Id, "reader", 5)).Verdict);
        await _store.CompleteAsync(record, entry.Id, FluxModels.Dev, false, null, "image/png", 100);

        Assert.Equal(["queued", "canceled"], await OutboxTypesAsync(id));
    }

    [Fact]
    public async Task ProcessingThenSucceeded_AreQueuedInOrder_WithTheRecordAsTheChangeLeftIt()
    {
        var (id, entry) = await SubmitAsync(Hook, "processing succeeded");
        var record = (await _store.GetAsync(id))!;

        var started = await _store.StartAsync(id, record.UserId, entry.Id, "reader", 5);
        await _store.StartAsync(id, record.UserId, entry.Id, "reader", 5); // a redelivery: no second processing event
        await _store.CompleteAsync(started.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 100);

        var events = (await redis.Redis.GetDatabase().StreamRangeAsync(RedisKeys.WebhookOutbox))
            .Where(e => (string?)e["gen"] == id)
            .Select(e => JsonDocument.Parse((string)e["event"]!).RootElement)
            .ToList();
        Assert.Equal(["processing", "succeeded"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([1, 2], events.Select(e => e.GetProperty("seq").GetInt32()));
        Assert.Equal([$"msg_{id}_1", $"msg_{id}_2"], events.Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(["processing", "succeeded"], events.Select(e => e.GetProperty("record").GetProperty("status").GetString()));
    }

    [Fact]
    public async Task NoWebhook_OrAnEventOutsideTheFilter_QueuesNothing()
    {
        var (plain, _) = await SubmitAsync(null, null);
        var (filtered, _) = await SubmitAsync(Hook, "succeeded failed");
        var owner = (await _store.GetAsync(filtered))!.UserId;
        await _store.CancelAsync(filtered, owner);

        Assert.Empty(await OutboxTypesAsync(plain));
        Assert.Empty(await OutboxTypesAsync(filtered));
    }
}
