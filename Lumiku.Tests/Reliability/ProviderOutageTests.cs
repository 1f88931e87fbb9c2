using System.Collections.Concurrent;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;
using static Lumiku.Tests.Infrastructure.WorkerTestBed;

namespace Lumiku.Tests.Reliability;

/// <summary>
/// A provider that is down or says "later", with a real worker process, Redis and emulator: jobs wait
/// as <c>queued</c> (cancelable, their deliveries not counted) instead of failing or being parked as
/// <c>processing</c>; they succeed when the provider comes back within the job deadline and fail,
/// refunded once, when it does not.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ProviderOutageTests : IAsyncLifetime
{
    private readonly string _user = LumikuAppFixture.NewUser();
    private WorkerTestBed _bed = null!;
    private ConnectionMultiplexer _redis = null!;
    private GenerationStore _store = null!;

    /// <summary>Redis and an emulator that answers 503 to everything until a test resets its faults.</summary>
    public async ValueTask InitializeAsync()
    {
        _bed = await WorkerTestBed.StartAsync();
        _redis = await _bed.ConnectAsync();
        _store = Store(_redis);
        await _bed.StartEmulatorAsync();
        await _bed.SetEmulatorFaultsAsync(new { Error503Rate = 1.0 });
    }

    [Fact]
    public async Task BreakerOpens_JobsGoBackToQueued_Cancelable_AndSucceedAfterRecovery_WithDeliveriesUncounted()
    {
        var events = new ConcurrentQueue<(string Id, string Status)>();
        await _redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(RedisKeys.EventsPrefix + "*"), (channel, status) =>
            events.Enqueue((channel.ToString()[RedisKeys.EventsPrefix.Length..], status.ToString())));
        var worker = await _bed.StartWorkerAsync("worker-breaker", concurrency: 4, new Dictionary<string, string>
        {
            // Every failed call counts at once, and two of them open the breaker for 2 s.
            ["Flux__Resilience__MaxRetryAttempts"] = "0",
            ["Flux__Resilience__CircuitBreakerFailureRatio"] = "0.5",
            ["Flux__Resilience__CircuitBreakerMinimumThroughput"] = "2",
            ["Flux__Resilience__CircuitBreakerSamplingDuration"] = "00:00:30",
            ["Flux__Resilience__CircuitBreakerBreakDuration"] = "00:00:02",
            ["Worker__DeferDelay"] = "00:00:00.200",
            ["Worker__MaxDeferDelay"] = "00:00:01",
            ["Worker__DelayedPollInterval"] = "00:00:00.100",
        });
        var ids = await SubmitAsync(_store, _user, 8);

        await WaitUntilAsync(() => Task.FromResult(worker.Output.Contains("Provider not asked", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        // No job is parked as processing: each one the worker read is back to queued, and none of
        // those deliveries counts against the delivery limit.
        await WaitUntilAsync(async () => (await StatusesAsync(_store, ids)).All(s => s == GenerationStatus.Queued), TimeSpan.FromSeconds(30));
        Assert.All(await RecordsAsync(_store, ids), r => Assert.Equal(0, r.Attempts));
        Assert.All(ids, id =>
        {
            Assert.Contains((id, GenerationStatus.Processing), events);
            Assert.Contains((id, GenerationStatus.Queued), events);
        });

        // A user can cancel a job that waits out the outage: refunded once, never run.
        await WaitUntilAsync(async () => (await _store.CancelAsync(ids[0], _user)).Changed, TimeSpan.FromSeconds(30));

        await _bed.ResetEmulatorFaultsAsync();
        await _bed.WaitUntilAllTerminalAsync(_store, ids, TimeSpan.FromSeconds(60));

        var records = await RecordsAsync(_store, ids);
        Assert.Equal(GenerationStatus.Canceled, records[0].Status);
        Assert.Equal(10, records[0].Refunded);
        Assert.All(records[1..], r =>
        {
            Assert.Equal(GenerationStatus.Succeeded, r.Status);
            Assert.Equal(1, r.Attempts);
            Assert.Equal(10, r.Charged);
        });
        // One image answer (the paid call) per delivered avatar, none for the canceled job.
        Assert.Equal(ids.Count - 1, (await _bed.EmulatorStatsAsync()).Count(FluxModels.Dev, 200));
        var ledger = await _store.GetFullLedgerAsync(_user);
        Assert.Equal([ids[0]], ledger.Where(e => e.Type == "refund").Select(e => e.GenerationId));
        Assert.Equal(ids.Count - 1, ledger.Count(e => e.Type == "settle"));
        Assert.Equal(StarterGrant - (10 * (ids.Count - 1)), await _store.GetBalanceAsync(_user));
        Assert.Equal(await _store.GetBalanceAsync(_user), ledger.Sum(e => e.Amount));
    }

    [Fact]
    public async Task FinalUnavailableStormShorterThanTheDeadline_EveryJobWaitsQueued_AndSucceeds()
    {
        await StartStormWorkerAsync(deadline: "00:02:00");
        var ids = await SubmitAsync(_store, _user, 6);

        // Every job has been turned away twice and waits, queued, instead of failing.
        await WaitUntilAsync(async () => (await RecordsAsync(_store, ids)).All(r => r.Deferrals >= 2), TimeSpan.FromSeconds(40));
        Assert.DoesNotContain(GenerationStatus.Failed, await StatusesAsync(_store, ids));

        await _bed.ResetEmulatorFaultsAsync();
        await _bed.WaitUntilAllTerminalAsync(_store, ids, TimeSpan.FromSeconds(60));

        Assert.All(await RecordsAsync(_store, ids), r =>
        {
            Assert.Equal(GenerationStatus.Succeeded, r.Status);
            Assert.Equal(1, r.Attempts);
        });
        Assert.Equal(ids.Count, (await _bed.EmulatorStatsAsync()).Count(FluxModels.Dev, 200));
        Assert.Equal(StarterGrant - (10 * ids.Count), await _store.GetBalanceAsync(_user));
    }

    [Fact]
    public async Task FinalUnavailableStormLongerThanTheDeadline_EveryJobFailsOnce_AndIsRefundedOnce()
    {
        await StartStormWorkerAsync(deadline: "00:00:05");
        var ids = await SubmitAsync(_store, _user, 6);

        await _bed.WaitUntilAllTerminalAsync(_store, ids, TimeSpan.FromSeconds(60));

        Assert.All(await RecordsAsync(_store, ids), r =>
        {
            Assert.Equal(GenerationStatus.Failed, r.Status);
            Assert.Equal("provider_unavailable", r.ErrorCode);
            Assert.Equal(10, r.Refunded);
            Assert.True(r.Deferrals >= 1, $"{r.Id} failed without waiting");
        });
        var refunds = (await _store.GetFullLedgerAsync(_user)).Where(e => e.Type == "refund").Select(e => e.GenerationId!).ToList();
        Assert.Equal(ids.Order(), refunds.Order());
        Assert.Equal(StarterGrant, await _store.GetBalanceAsync(_user));
    }

    /// <summary>A worker whose client does not retry and whose breaker stays out, so each call is one final 503.</summary>
    private Task<ServiceProcess> StartStormWorkerAsync(string deadline) =>
        _bed.StartWorkerAsync("worker-storm", concurrency: 4, new Dictionary<string, string>
        {
            ["Flux__Resilience__MaxRetryAttempts"] = "0",
            ["Flux__Resilience__CircuitBreakerFailureRatio"] = "1.0",
            ["Flux__Resilience__CircuitBreakerMinimumThroughput"] = "100000",
            ["Worker__JobDeadline"] = deadline,
            ["Worker__DeferDelay"] = "00:00:00.300",
            ["Worker__MaxDeferDelay"] = "00:00:01",
            ["Worker__DelayedPollInterval"] = "00:00:00.100",
        });

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _bed.DisposeAsync();
    }
}
