using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Queue;

/// <summary>
/// A user's cancel of a processing job against the worker's Complete, and a Cancel-After deadline
/// against a worker's Start, on the real scripts and a real Redis: one side wins, so a job is either
/// charged or refunded (once), never both and never neither.
/// </summary>
public sealed class CancelRaceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private readonly GenerationStore _store = redis.CreateStore();

    [Fact]
    public async Task CancelRacingComplete_200Times_EachJobIsChargedOrRefunded_NeverBoth()
    {
        var user = LumikuAppFixture.NewUser("race");
        await _store.GrantAsync(user, 200 * 50, "race");
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 200; i++)
        {
            var (id, entry) = await redis.SubmitAndReadAsync(_store, new NewGeneration(user, $"A portrait of a racer, lap {i}", null, 256, 256, i, FluxModels.Dev));
            var started = await _store.StartAsync(id, user, entry.Id, "reader", maxAttempts: 5);

            // Both from the thread pool, first one then the other by turns, so each side wins some rounds.
            Task<int?> complete;
            Task<FinishResult> cancel;
            if (i % 2 == 0)
            {
                complete = Task.Run(() => _store.CompleteAsync(started.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 1234));
                cancel = Task.Run(() => _store.CancelAsync(id, user));
            }
            else
            {
                cancel = Task.Run(() => _store.CancelAsync(id, user));
                complete = Task.Run(() => _store.CompleteAsync(started.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 1234));
            }

            var (charged, canceled) = (await complete, await cancel);

            var record = (await _store.GetAsync(id))!;
            Assert.True(charged is null ^ !canceled.Changed, $"job {i}: complete charged {charged}, cancel changed {canceled.Changed}");
            Assert.True((record.Charged > 0) ^ (record.Refunded > 0), $"job {i}: charged {record.Charged}, refunded {record.Refunded}");
            Assert.Equal(canceled.Changed ? GenerationStatus.Canceled : GenerationStatus.Succeeded, record.Status);
            var ledger = (await _store.GetFullLedgerAsync(user)).Where(e => e.GenerationId == id).ToList();
            Assert.Equal(1, ledger.Count(e => e.Type is "settle" or "refund"));
            Assert.Empty(await redis.Redis.GetDatabase().StreamPendingMessagesAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, 10, RedisValue.Null, entry.Id, entry.Id));
            outcomes[record.Status] = outcomes.GetValueOrDefault(record.Status) + 1;
        }

        await redis.AssertLedgerBalancedAsync(_store, user);
        Assert.Equal(200, outcomes.Values.Sum());
        Assert.Equal([GenerationStatus.Canceled, GenerationStatus.Succeeded], outcomes.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CancelOfAProcessingJob_WhoseWorkerIsGone_EndsItAtOnce_AndTheLateCompleteChargesNothing()
    {
        var user = LumikuAppFixture.NewUser("gone");
        var (id, entry) = await redis.SubmitAndReadAsync(_store, new NewGeneration(user, "A portrait of a vanished painter", null, 256, 256, 1, FluxModels.Dev));
        var started = await _store.StartAsync(id, user, entry.Id, "crashed-worker", maxAttempts: 5);

        var canceled = await _store.CancelAsync(id, user);
        var late = await _store.CompleteAsync(started.Generation!, entry.Id, FluxModels.Dev, false, null, "image/png", 1234);

        Assert.True(canceled.Changed);
        Assert.Null(late);
        var record = (await _store.GetAsync(id))!;
        Assert.Equal(GenerationStatus.Canceled, record.Status);
        Assert.Equal(record.Reserved, record.Refunded);
        Assert.Equal(0, record.Charged);
        // Its entry is acked by the cancel: nobody takes the dead worker's job over.
        Assert.Empty(await redis.Redis.GetDatabase().StreamPendingMessagesAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, 10, RedisValue.Null, entry.Id, entry.Id));
        await redis.AssertLedgerBalancedAsync(_store, user);
    }

    [Fact]
    public async Task DeadlinePassed_StartAndTwoSweepsRacing_AbortOnce_AndNoWorkerRunsTheJob()
    {
        var user = LumikuAppFixture.NewUser("deadline");
        await _store.GrantAsync(user, 50 * 10, "race");
        for (var i = 0; i < 50; i++)
        {
            var submitted = await _store.SubmitAsync(
                new NewGeneration(user, $"A portrait with a deadline, take {i}", null, 256, 256, i, FluxModels.Dev), cancelAfter: TimeSpan.FromMilliseconds(1));
            var id = submitted.GenerationId!;
            var entry = (string)(await redis.Redis.GetDatabase().HashGetAsync(RedisKeys.Generation(id), "entryId"))!;
            await Task.Delay(5, TestContext.Current.CancellationToken);

            var start = Task.Run(() => _store.StartAsync(id, user, entry, "reader", maxAttempts: 5));
            var sweeps = Enumerable.Range(0, 2).Select(_ => Task.Run(() => _store.AbortDueAsync())).ToArray();
            var (started, aborted) = (await start, (await Task.WhenAll(sweeps)).Sum());

            Assert.Equal(StartVerdict.AlreadyFinished, started.Verdict);
            Assert.True(aborted <= 1);
            var record = (await _store.GetAsync(id))!;
            Assert.Equal((GenerationStatus.Aborted, 0, 10), (record.Status, record.Charged, record.Refunded));
            Assert.Single(await _store.GetFullLedgerAsync(user), e => e.GenerationId == id && e.Type == "refund");
        }

        await redis.AssertLedgerBalancedAsync(_store, user);
    }
}
