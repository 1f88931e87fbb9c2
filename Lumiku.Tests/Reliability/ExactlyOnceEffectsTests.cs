using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Reliability;

/// <summary>
/// The Lua-scripted state changes against a real Redis: at-least-once delivery never turns into
/// twice the effect, and credits always add up.
/// </summary>
public sealed class ExactlyOnceEffectsTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private readonly GenerationStore _store = redis.CreateStore();

    [Fact]
    public async Task SameEntryDeliveredTwice_SettlesOnce_WithOneLedgerEntry()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);

        // Delivery 1 to consumer A; A stalls, the entry is claimed by B: delivery 2.
        var first = await _store.StartAsync(id, user, entry.Id, "consumer-a", maxAttempts: 5);
        await redis.Redis.GetDatabase().StreamClaimAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, "consumer-b", 0, [entry.Id]);
        var second = await _store.StartAsync(id, user, entry.Id, "consumer-b", maxAttempts: 5);
        Assert.Equal(StartVerdict.Process, first.Verdict);
        Assert.Equal(StartVerdict.Process, second.Verdict);

        // Both finish: only the first completion has an effect.
        Assert.Equal(10, await _store.CompleteAsync(first.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 1234));
        Assert.Null(await _store.CompleteAsync(second.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 1234));

        var ledger = await _store.GetFullLedgerAsync(user);
        Assert.Equal(["grant", "reserve", "settle"], ledger.Select(e => e.Type));
        Assert.Equal(90, await _store.GetBalanceAsync(user));
        Assert.Equal(GenerationStatus.Succeeded, (await _store.GetAsync(id))!.Status);
        Assert.Empty(await redis.Redis.GetDatabase().StreamPendingMessagesAsync(
            RedisKeys.Stream, RedisKeys.ConsumerGroup, 10, RedisValue.Null, minId: entry.Id, maxId: entry.Id));
        await redis.AssertLedgerBalancedAsync(_store, user);

        // A third delivery (e.g. a producer retry XADDing the same id) is acknowledged and skipped.
        var again = await _store.StartAsync(id, user, entry.Id, "consumer-c", maxAttempts: 5);
        Assert.Equal(StartVerdict.AlreadyFinished, again.Verdict);
    }

    [Fact]
    public async Task FallbackToSchnell_ChargesTheSchnellPrice_AndReturnsTheDifference_RecordingTheProvider()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);
        var started = await _store.StartAsync(id, user, entry.Id, "c", 5);

        await _store.CompleteAsync(started.Generation!, entry.Id, FluxModels.Schnell, fellBack: true, "400: Model access denied", "image/png", 10, "fal-ai");

        var record = (await _store.GetAsync(id))!;
        // The price is the model's, whichever provider served it.
        Assert.Equal(5, record.Charged);
        Assert.Equal("fal-ai", record.Provider);
        Assert.True(record.FellBack);
        Assert.Equal(FluxModels.Schnell, record.ModelUsed);
        Assert.Equal("400: Model access denied", record.PrimaryError);
        Assert.Equal(95, await _store.GetBalanceAsync(user));
        var settle = (await _store.GetFullLedgerAsync(user)).Single(e => e.Type == "settle");
        Assert.Equal(5, settle.Amount);
        Assert.Equal(5, settle.Charged);
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task FailureReportedTwice_RefundsExactlyOnce()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);
        var started = await _store.StartAsync(id, user, entry.Id, "c", 5);

        var first = await _store.FailAsync(started.Generation!, entry.Id, "provider_unavailable", "503 after 3 attempts");
        var second = await _store.FailAsync(started.Generation!, entry.Id, "provider_unavailable", "503 after 3 attempts");

        Assert.True(first.Changed);
        Assert.Equal(10, first.Refunded);
        Assert.False(second.Changed);
        Assert.Equal(100, await _store.GetBalanceAsync(user));
        Assert.Single(await _store.GetFullLedgerAsync(user), e => e.Type == "refund");
        var record = (await _store.GetAsync(id))!;
        Assert.Equal(GenerationStatus.Failed, record.Status);
        Assert.Equal("provider_unavailable", record.ErrorCode);
        Assert.Equal(10, record.Refunded);
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task CancelQueued_RefundsOnce_AndTheWorkerSkipsIt()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);

        var first = await _store.CancelAsync(id, user);
        var second = await _store.CancelAsync(id, user);
        var delivered = await _store.StartAsync(id, user, entry.Id, "c", 5);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(GenerationStatus.Canceled, second.Status);
        Assert.Equal(StartVerdict.AlreadyFinished, delivered.Verdict);
        Assert.Equal(100, await _store.GetBalanceAsync(user));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task CancelWhileProcessing_RefundsOnce_AndASecondCancelChangesNothing()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);
        await _store.StartAsync(id, user, entry.Id, "c", 5);

        var cancel = await _store.CancelAsync(id, user);
        var again = await _store.CancelAsync(id, user);

        Assert.Equal((true, GenerationStatus.Canceled, 10), (cancel.Changed, cancel.Status, cancel.Refunded));
        Assert.Equal((false, GenerationStatus.Canceled), (again.Changed, again.Status));
        Assert.Equal(100, await _store.GetBalanceAsync(user));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task PastTheDeliveryLimit_TheEntryIsDeadLettered_AndRefunded()
    {
        var user = LumikuAppFixture.NewUser();
        var (id, entry) = await SubmitAndReadAsync(user);
        var db = redis.Redis.GetDatabase();
        var deadBefore = await db.StreamLengthAsync(RedisKeys.DeadLetterStream);

        Assert.Equal(StartVerdict.Process, (await _store.StartAsync(id, user, entry.Id, "a", maxAttempts: 2)).Verdict);
        Assert.Equal(StartVerdict.Process, (await _store.StartAsync(id, user, entry.Id, "b", maxAttempts: 2)).Verdict);
        Assert.Equal(StartVerdict.DeadLettered, (await _store.StartAsync(id, user, entry.Id, "c", maxAttempts: 2)).Verdict);

        var record = (await _store.GetAsync(id))!;
        Assert.Equal(GenerationStatus.Failed, record.Status);
        Assert.Equal("dead_lettered", record.ErrorCode);
        Assert.Equal(100, await _store.GetBalanceAsync(user));
        Assert.Equal(deadBefore + 1, await db.StreamLengthAsync(RedisKeys.DeadLetterStream));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task IdempotencyKey_SameBodyReplays_AnotherBodyConflicts()
    {
        var user = LumikuAppFixture.NewUser();
        var request = NewRequest(user);

        var first = await _store.SubmitAsync(request, "key-1", "fingerprint-a");
        var replay = await _store.SubmitAsync(request, "key-1", "fingerprint-a");
        var conflict = await _store.SubmitAsync(request with { Prompt = "Another portrait entirely" }, "key-1", "fingerprint-b");

        Assert.Equal(SubmitOutcome.Accepted, first.Outcome);
        Assert.Equal(SubmitOutcome.Replayed, replay.Outcome);
        Assert.Equal(first.GenerationId, replay.GenerationId);
        Assert.Equal(SubmitOutcome.IdempotencyConflict, conflict.Outcome);
        Assert.Equal(90, await _store.GetBalanceAsync(user));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task ConcurrentSubmits_NeverOverdraw_TheBalance()
    {
        var user = LumikuAppFixture.NewUser();
        await redis.Redis.GetDatabase().StringSetAsync(RedisKeys.Balance(user), 70);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _store.SubmitAsync(NewRequest(user))));

        Assert.Equal(7, results.Count(r => r.Outcome == SubmitOutcome.Accepted));
        Assert.Equal(43, results.Count(r => r.Outcome == SubmitOutcome.InsufficientCredits));
        Assert.Equal(0, await _store.GetBalanceAsync(user));
    }

    [Fact]
    public async Task Trimming_DropsOnlyAcknowledgedEntries_NeverPendingOrUndeliveredOnes()
    {
        var user = LumikuAppFixture.NewUser();
        var db = redis.Redis.GetDatabase();
        // Tests of one class run one at a time: start from an empty stream, free of their leftovers.
        await db.KeyDeleteAsync(RedisKeys.Stream);
        var (doneId, done) = await SubmitAndReadAsync(user);
        var (pendingId, _) = await SubmitAndReadAsync(user);
        var started = await _store.StartAsync(doneId, user, done.Id, "c", 5);
        await _store.CompleteAsync(started.Generation!, done.Id, FluxModels.Dev, false, null, "image/png", 1);
        var undelivered = await _store.SubmitAsync(NewRequest(user));

        await _store.TrimAcknowledgedAsync();

        var left = (await db.StreamRangeAsync(RedisKeys.Stream)).Select(e => (string?)e[RedisKeys.StreamFields.Id]).ToList();
        Assert.Contains(pendingId, left);
        Assert.Contains(undelivered.GenerationId, left);
        Assert.DoesNotContain(doneId, left);
    }

    private static NewGeneration NewRequest(string user) =>
        new(user, "A professional headshot of a 25-year-old woman", null, 512, 512, 42, FluxModels.Dev);

    /// <summary>Submits a job and reads it from the stream as a worker would (group created on demand).</summary>
    private Task<(string Id, StreamEntry Entry)> SubmitAndReadAsync(string user) => redis.SubmitAndReadAsync(_store, NewRequest(user));
}
