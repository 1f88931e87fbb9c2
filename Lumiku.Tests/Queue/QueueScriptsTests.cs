using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Queue;

/// <summary>
/// The worker's queue scripts against a real Redis: keeping claims, requeueing without counting the
/// delivery, and moving delayed jobs back, each consistent with cancel and with several workers at once.
/// </summary>
public sealed class QueueScriptsTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private readonly GenerationStore _store = redis.CreateStore();

    private IDatabase Db => redis.Redis.GetDatabase();

    [Fact]
    public async Task RefreshClaims_ResetsTheIdleTimeOfOwnEntries_AndNeverTakesAnotherConsumersEntry()
    {
        var (_, mine) = await SubmitAndReadAsync();
        var (_, theirs) = await SubmitAndReadAsync();
        await Db.StreamClaimAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, "other", 0, [theirs.Id]);
        await Task.Delay(300, TestContext.Current.CancellationToken);

        var refreshed = await _store.RefreshClaimsAsync("reader", [mine.Id.ToString(), theirs.Id.ToString(), "1-1"]);

        Assert.Equal(1, refreshed);
        var pending = (await PendingAsync(mine.Id), await PendingAsync(theirs.Id));
        Assert.Equal("reader", pending.Item1.ConsumerName.ToString());
        Assert.True(pending.Item1.IdleTimeInMilliseconds < 300, $"idle {pending.Item1.IdleTimeInMilliseconds} ms");
        Assert.Equal(1, pending.Item1.DeliveryCount); // JUSTID: a refresh is not a delivery
        Assert.Equal("other", pending.Item2.ConsumerName.ToString());
        Assert.True(pending.Item2.IdleTimeInMilliseconds >= 300);
    }

    [Fact]
    public async Task RequeueNow_IsQueuedOnTheStreamAgain_WithoutCountingTheDelivery_AndACancelRefundsOnce_ThenStartSkips()
    {
        var (id, entry) = await SubmitAndReadAsync(out var user);
        var started = await _store.StartAsync(id, user, entry.Id, "reader", maxAttempts: 5);

        var outcome = await _store.RequeueAsync(started.Generation!, entry.Id, "reader", DateTimeOffset.UtcNow, "provider_circuit_open", null, null);

        Assert.Equal(RequeueOutcome.Queued, outcome);
        var record = (await _store.GetAsync(id))!;
        Assert.Equal(GenerationStatus.Queued, record.Status);
        Assert.Equal(0, record.Attempts);
        Assert.Null(await PendingOrNullAsync(entry.Id)); // the old entry is acked...
        var fresh = await ReadEntryOfAsync(id); // ...and a new one carries the job
        Assert.NotEqual(entry.Id, fresh.Id);

        Assert.True((await _store.CancelAsync(id, user)).Changed);
        Assert.False((await _store.CancelAsync(id, user)).Changed);
        Assert.Equal(StartVerdict.AlreadyFinished, (await _store.StartAsync(id, user, fresh.Id, "reader", 5)).Verdict);
        Assert.Equal(100, await _store.GetBalanceAsync(user));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task Requeue_ByAConsumerThatNoLongerHoldsTheJob_ChangesNothing()
    {
        var (id, entry) = await SubmitAndReadAsync(out var user);
        var started = await _store.StartAsync(id, user, entry.Id, "reader", maxAttempts: 5);
        await _store.StartAsync(id, user, entry.Id, "taker", maxAttempts: 5); // taken over

        var outcome = await _store.RequeueAsync(started.Generation!, entry.Id, "reader", DateTimeOffset.UtcNow, "provider_circuit_open", null, null);

        Assert.Equal(RequeueOutcome.NotOurs, outcome);
        var record = (await _store.GetAsync(id))!;
        Assert.Equal(GenerationStatus.Processing, record.Status);
        Assert.Equal(2, record.Attempts);
    }

    [Fact]
    public async Task Delayed_IsMovedBackOnceWhenDue_EvenWithMoversRacing_AndNeverAfterACancel()
    {
        var (due, dueEntry) = await SubmitAndReadAsync(out var user);
        var (canceled, canceledEntry) = await SubmitAndReadAsync();
        var (later, laterEntry) = await SubmitAndReadAsync();
        var now = DateTimeOffset.UtcNow;
        await DeferAsync(due, user, dueEntry, now.AddMilliseconds(200));
        await DeferAsync(canceled, user, canceledEntry, now.AddMilliseconds(200));
        await DeferAsync(later, user, laterEntry, now.AddHours(1));
        Assert.Equal(GenerationStatus.Queued, (await _store.GetAsync(due))!.Status);
        Assert.Equal(1, (await _store.GetAsync(due))!.Deferrals);
        Assert.True((await _store.CancelAsync(canceled, user)).Changed);
        await Task.Delay(300, TestContext.Current.CancellationToken);

        var moved = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _store.PromoteDueAsync()));

        Assert.Equal(1, moved.Sum());
        // Each job's first entry (acked, not trimmed yet) plus one re-added entry for the due job alone.
        var entries = await Db.StreamRangeAsync(RedisKeys.Stream, dueEntry.Id);
        Assert.Equal(2, entries.Count(e => (string?)e[RedisKeys.StreamFields.Id] == due));
        Assert.Single(entries, e => (string?)e[RedisKeys.StreamFields.Id] == canceled);
        Assert.Single(entries, e => (string?)e[RedisKeys.StreamFields.Id] == later);
        Assert.Equal(1, await Db.SortedSetLengthAsync(RedisKeys.DelayedJobs));
        Assert.Equal(GenerationStatus.Canceled, (await _store.GetAsync(canceled))!.Status);
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    private async Task DeferAsync(string id, string user, StreamEntry entry, DateTimeOffset dueAt)
    {
        var started = await _store.StartAsync(id, user, entry.Id, "reader", maxAttempts: 5);
        Assert.Equal(RequeueOutcome.Queued, await _store.RequeueAsync(started.Generation!, entry.Id, "reader", dueAt, "provider_unavailable", null, null));
    }

    private Task<(string Id, StreamEntry Entry)> SubmitAndReadAsync() => SubmitAndReadAsync(out _);

    private Task<(string Id, StreamEntry Entry)> SubmitAndReadAsync(out string user)
    {
        user = LumikuAppFixture.NewUser();
        return redis.SubmitAndReadAsync(_store, new NewGeneration(user, "A portrait of a lighthouse keeper", null, 512, 512, 7, FluxModels.Dev));
    }

    private async Task<StreamEntry> ReadEntryOfAsync(string id)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Stream);
        return entries.Last(e => (string?)e[RedisKeys.StreamFields.Id] == id);
    }

    private async Task<StreamPendingMessageInfo> PendingAsync(RedisValue entryId) =>
        await PendingOrNullAsync(entryId) ?? throw new InvalidOperationException($"{entryId} is not pending");

    private async Task<StreamPendingMessageInfo?> PendingOrNullAsync(RedisValue entryId)
    {
        var pending = await Db.StreamPendingMessagesAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, 1, RedisValue.Null, minId: entryId, maxId: entryId);
        return pending.Length == 0 ? null : pending[0];
    }
}
