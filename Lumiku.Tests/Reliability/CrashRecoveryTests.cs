using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Lumiku.Tests.Infrastructure.WorkerTestBed;

namespace Lumiku.Tests.Reliability;

/// <summary>
/// Crashes of real processes: a worker SIGKILLed with jobs in flight, Redis killed between accept
/// and processing. Nothing accepted is lost, nothing is charged twice.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private WorkerTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await WorkerTestBed.StartAsync();

    /// <summary>Each job takes about 2 s at the provider, so a kill or a stop finds jobs in flight.</summary>
    private Task StartSlowEmulatorAsync() => StartEmulatorAsync(new Dictionary<string, string> { ["Emulator__LatencyMs"] = "2000" });

    private Task StartEmulatorAsync(Dictionary<string, string> settings) => _bed.StartEmulatorAsync(settings);

    [Fact]
    public async Task WorkerKilledWithJobsInFlight_AnotherWorkerFinishesEveryJob_ChargingOnce()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        await StartSlowEmulatorAsync();
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        var first = await _bed.StartWorkerAsync("worker-a");
        var ids = await SubmitAsync(store, user, 12);

        // Kill the worker the moment it holds jobs at the provider.
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).Count(s => s == GenerationStatus.Processing) >= 4, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        var atKill = await StatusesAsync(store, ids);
        Assert.Contains(GenerationStatus.Processing, atKill);

        await _bed.StartWorkerAsync("worker-b");
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(90));

        var records = await Task.WhenAll(ids.Select(id => store.GetAsync(id)));
        Assert.All(records, r =>
        {
            Assert.Equal(GenerationStatus.Succeeded, r!.Status);
            Assert.Equal(10, r.Charged);
        });
        // The jobs the first worker held were taken over, not redone from scratch by a second XADD.
        Assert.Contains(records, r => r!.Attempts >= 2);
        var ledger = await store.GetFullLedgerAsync(user);
        Assert.Equal(ids.Count, ledger.Count(e => e.Type == "settle"));
        Assert.Equal(StarterGrant - (10 * ids.Count), await store.GetBalanceAsync(user));
        Assert.Equal(await store.GetBalanceAsync(user), ledger.Sum(e => e.Amount));
        Assert.Equal(ids.Count, Directory.GetFiles(_bed.Images, "*.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task RedisRestartedBetweenAcceptAndProcessing_LosesNoAcceptedJob()
    {
        await StartEmulatorAsync([]);
        var user = LumikuAppFixture.NewUser();
        List<string> ids;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString))
        {
            ids = await SubmitAsync(Store(redis), user, 10);
        }

        // A restart (SHUTDOWN flushes the AOF). A crash of Redis itself can lose up to ~2 s of
        // acknowledged writes with appendfsync everysec when the disk is busy: Redis postpones the
        // AOF write while a background fsync runs (docs/reliability.md).
        await _bed.Redis.StopAsync();
        await _bed.Redis.StartAgainAsync();

        await _bed.StartWorkerAsync("worker-after-restart");
        await using var reconnected = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(reconnected);
        string[] last = [];
        try
        {
            await WaitUntilAsync(async () => (last = await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(90));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"not all terminal after the restart: {string.Join(",", last)}\nworker:\n{_bed.Worker?.Output}");
        }

        Assert.All(await Task.WhenAll(ids.Select(store.GetAsync)), r =>
            Assert.True(r!.Status == GenerationStatus.Succeeded, $"{r.Id} ended {r.Status}: {r.ErrorCode} {r.ErrorMessage}"));
        Assert.Equal(StarterGrant - (10 * ids.Count), await store.GetBalanceAsync(user));
    }

    [Fact]
    public async Task GracefulStop_LetsInFlightJobsFinish_AndLeavesTheRestQueued()
    {
        await StartSlowEmulatorAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        var worker = await _bed.StartWorkerAsync("worker-stopping", concurrency: 3);
        var ids = await SubmitAsync(store, user, 8);
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).Count(s => s == GenerationStatus.Processing) == 3, TimeSpan.FromSeconds(60));
        var atStop = (await Task.WhenAll(ids.Select(store.GetAsync))).Where(r => r!.Status == GenerationStatus.Processing).Select(r => r!.Id).ToList();

        await worker.StopAsync(TimeSpan.FromSeconds(30));

        var records = (await Task.WhenAll(ids.Select(store.GetAsync))).ToDictionary(r => r!.Id, r => r!);
        Assert.All(atStop, id =>
        {
            Assert.Equal(GenerationStatus.Succeeded, records[id].Status);
            Assert.Equal(1, records[id].Attempts);
        });
        // Nothing new was taken after the stop: the jobs not yet started are still queued for others.
        Assert.All(records.Values.Where(r => r.Status != GenerationStatus.Succeeded), r => Assert.Equal(GenerationStatus.Queued, r.Status));
        Assert.Contains(records.Values, r => r.Status == GenerationStatus.Queued);
    }

    [Fact]
    public async Task ProviderStorm_EveryJobEndsTerminal_RefundsExactlyTheFailures()
    {
        const string Doomed = "[always-500]";
        await StartEmulatorAsync(new Dictionary<string, string>
        {
            ["Emulator__Error503Rate"] = "0.3",
            ["Emulator__Error429Rate"] = "0.1",
            ["Emulator__FailPromptsContaining"] = Doomed,
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(redis);
        var users = Enumerable.Range(0, 4).Select(_ => LumikuAppFixture.NewUser("storm")).ToList();
        await _bed.StartWorkerAsync("worker-storm", concurrency: 32, new Dictionary<string, string>
        {
            // The storm's waits, shortened: retries still happen, with the same policy.
            ["Flux__Resilience__RetryDelay"] = "00:00:00.020",
            ["Flux__Resilience__MaxServerDelay"] = "00:00:00.050",
            // This storm is one the retries carry through: the breaker (tuned for a provider that is
            // down) is kept out of it, so the outcome depends on the retry policy alone. A ratio of 1.0
            // was not enough: at a cold start the emulator's errors come back before its first
            // (painted) images, so the first 20 outcomes could all be failures, and the open breaker
            // then deferred every job into the delivery limit (1 run in 4). The test makes ~800 calls.
            ["Flux__Resilience__CircuitBreakerFailureRatio"] = "1.0",
            ["Flux__Resilience__CircuitBreakerMinimumThroughput"] = "100000",
            // A job the provider keeps answering 5xx waits and is tried again until its deadline:
            // short here, so the doomed jobs fail within the test.
            ["Worker__JobDeadline"] = "00:00:30",
            ["Worker__DeferDelay"] = "00:00:00.200",
            ["Worker__MaxDeferDelay"] = "00:00:01",
            ["Worker__DelayedPollInterval"] = "00:00:00.100",
        });

        var jobs = new List<(string Id, string User, bool Doomed)>();
        for (var i = 0; i < 200; i++)
        {
            var user = users[i % users.Count];
            var doomed = i % 10 == 3;
            var prompt = $"A portrait of a storm chaser number {i}" + (doomed ? " " + Doomed : "");
            var result = await store.SubmitAsync(new NewGeneration(user, prompt, null, 256, 256, i, FluxModels.Dev));
            Assert.Equal(SubmitOutcome.Accepted, result.Outcome);
            jobs.Add((result.GenerationId!, user, doomed));
        }

        var ids = jobs.Select(j => j.Id).ToList();
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromMinutes(3));

        var records = (await Task.WhenAll(ids.Select(store.GetAsync))).ToDictionary(r => r!.Id, r => r!);
        Assert.All(jobs.Where(j => j.Doomed), j =>
        {
            Assert.Equal(GenerationStatus.Failed, records[j.Id].Status);
            // Failed by the provider's answers once the job deadline passed (the breaker is kept out).
            Assert.Equal("provider_unavailable", records[j.Id].ErrorCode);
        });
        Assert.All(records.Values, r =>
        {
            Assert.True(r.Status is GenerationStatus.Succeeded or GenerationStatus.Failed, $"{r.Id} ended {r.Status}");
            Assert.Equal(r.Status == GenerationStatus.Failed ? r.Reserved : 0, r.Refunded);
            Assert.Equal(r.Status == GenerationStatus.Succeeded ? r.Reserved : 0, r.Charged);
        });
        // Retries and deferrals carry the survivable jobs through 40 % transient errors.
        var survivors = jobs.Count(j => !j.Doomed && records[j.Id].Status == GenerationStatus.Succeeded);
        var outcomes = string.Join(", ", records.Values.GroupBy(r => r.ErrorCode ?? r.Status).Select(g => $"{g.Key}: {g.Count()}"));
        Assert.True(survivors >= 150, $"only {survivors} of 180 survivable jobs succeeded ({outcomes})");

        foreach (var user in users)
        {
            var ledger = await store.GetFullLedgerAsync(user);
            var failed = records.Values.Where(r => r.UserId == user && r.Status == GenerationStatus.Failed).Select(r => r.Id).ToHashSet();
            var refunds = ledger.Where(e => e.Type == "refund").Select(e => e.GenerationId!).ToList();
            Assert.Equal(failed.Count, refunds.Count);
            Assert.True(failed.SetEquals(refunds));
            Assert.All(ledger, e => Assert.True(e.Balance >= 0));
            Assert.Equal(await store.GetBalanceAsync(user), ledger.Sum(e => e.Amount));
        }
    }

    // Not a crash, but it needs the same real worker process: the api nudges only a worker that has
    // flagged itself idle, so a busy worker gets no message per job, and a sleeping one still wakes.
    [Fact]
    public async Task IdleWorkerWithALongPollInterval_WakesForANewJob_AndABusyOneGetsNoNudgePerJob()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        await StartSlowEmulatorAsync();
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        // Without a nudge, an idle worker would look at the stream again only after 60 s.
        await _bed.StartWorkerAsync("worker-idle", extra: new Dictionary<string, string> { ["Worker__MaxPollInterval"] = "00:01:00" });
        var db = redis.GetDatabase();
        await WaitUntilAsync(() => db.KeyExistsAsync(RedisKeys.WorkersIdle), TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken); // well into its sleep

        var nudges = 0;
        await redis.GetSubscriber().SubscribeAsync(RedisKeys.NudgeChannel, (_, _) => Interlocked.Increment(ref nudges));
        var first = await SubmitAsync(store, user, 1);
        await WaitUntilAsync(async () => (await StatusesAsync(store, first)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(20));
        Assert.Equal(GenerationStatus.Succeeded, (await store.GetAsync(first[0]))!.Status);

        // 40 submits in a row to a worker with 8 slots and a 2 s provider: once its slots are full it
        // reads nothing, so it sets no flag and the api sends no nudge (it used to send one per job).
        var nudgesBefore = Volatile.Read(ref nudges);
        var more = await SubmitAsync(store, user, 40);
        await WaitUntilAsync(async () => (await StatusesAsync(store, more)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(90));
        Assert.All(await StatusesAsync(store, more), s => Assert.Equal(GenerationStatus.Succeeded, s));
        TestContext.Current.TestOutputHelper?.WriteLine($"nudges: {nudgesBefore} for the first job, {Volatile.Read(ref nudges) - nudgesBefore} for 40 more");
        Assert.Equal(1, nudgesBefore);
        Assert.InRange(Volatile.Read(ref nudges) - nudgesBefore, 1, 10);
    }

    // A step that hits an unexpected error (here the image store cannot write: its folder is a file) is
    // tried again in place within seconds, not after the 6-minute visibility timeout; only that step:
    // the image the provider answered is kept, so the provider is paid once.
    [Fact]
    public async Task ImageStoreFailsAfterTheProviderAnswered_OnlyTheSaveIsRetried_OneFluxCall_ChargedOnce()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        var worker = await StartWorkerWhoseImageFolderIsAFileAsync("worker-retry", retryDelay: "00:00:01");

        var ids = await SubmitAsync(store, user, 1);
        await WaitUntilAsync(() => Task.FromResult(worker.Output.Contains("step save failed", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        File.Delete(_bed.Images);

        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(30));
        var record = await store.GetAsync(ids[0]);
        Assert.Equal(GenerationStatus.Succeeded, record!.Status);
        Assert.Equal(1, record.Attempts);
        Assert.Equal(1, (await _bed.EmulatorStatsAsync()).Count(FluxModels.Dev));
        Assert.Equal(StarterGrant - 10, await store.GetBalanceAsync(user));
        Assert.Single(await store.GetFullLedgerAsync(user), e => e.Type == "settle");
        Assert.Single(Directory.GetFiles(_bed.Images, "*.png", SearchOption.AllDirectories));
    }

    // A job that keeps failing unexpectedly uses up its deliveries in place: it is dead-lettered and
    // refunded within seconds instead of after five visibility timeouts (30 minutes by default).
    [Fact]
    public async Task ImageStoreKeepsFailing_TheJobIsDeadLetteredAndRefunded_WithoutWaitingForTheVisibilityTimeout()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        await StartWorkerWhoseImageFolderIsAFileAsync("worker-poison", retryDelay: "00:00:00.100");

        var ids = await SubmitAsync(store, user, 1);
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(60));

        var record = await store.GetAsync(ids[0]);
        Assert.Equal(GenerationStatus.Failed, record!.Status);
        Assert.Equal("dead_lettered", record.ErrorCode);
        Assert.Equal(StarterGrant, await store.GetBalanceAsync(user));
        var ledger = await store.GetFullLedgerAsync(user);
        Assert.Equal(["grant", "reserve", "refund"], ledger.Select(e => e.Type));
        Assert.Equal(1, await redis.GetDatabase().StreamLengthAsync(RedisKeys.DeadLetterStream));
        // The failing write never bought a second generation.
        Assert.Equal(1, (await _bed.EmulatorStatsAsync()).Count(FluxModels.Dev));
    }

    // A job kept alive by slow local retries (each image write fails for a while) stays claimed by its
    // worker: a second worker, looking for abandoned entries five times a second with a visibility
    // timeout a third of the retries' span, never takes it over and never asks the provider again.
    [Fact]
    public async Task JobKeptBusyPastTheVisibilityTimeoutBySlowLocalRetries_IsNeverTakenOver()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        var busy = await StartWorkerWhoseImageFolderIsAFileAsync("worker-busy", retryDelay: "00:00:01", new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeout"] = "00:00:03",
            ["Worker__MaxDeliveries"] = "8",
            ["Flux__Resilience__AttemptTimeout"] = "00:00:02",
            ["Flux__Resilience__ModelTimeout"] = "00:00:02.500",
            ["Flux__Resilience__TotalTimeout"] = "00:00:02.500",
        });
        var ids = await SubmitAsync(store, user, 1);
        await WaitUntilAsync(() => Task.FromResult(busy.Output.Contains("step save failed", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

        var otherImages = _bed.Images + "-other";
        await _bed.StartWorkerAsync("worker-other", extra: new Dictionary<string, string>
        {
            ["Images__Path"] = otherImages,
            ["Worker__VisibilityTimeout"] = "00:00:03",
            ["Worker__ClaimInterval"] = "00:00:00.200",
            ["Flux__Resilience__AttemptTimeout"] = "00:00:02",
            ["Flux__Resilience__ModelTimeout"] = "00:00:02.500",
            ["Flux__Resilience__TotalTimeout"] = "00:00:02.500",
        });
        // Save failures at about 0, 1, 3 and 7 s: the job has been busy for twice the visibility timeout.
        await WaitUntilAsync(() => Task.FromResult(Occurrences(busy.Output, "step save failed") >= 4), TimeSpan.FromSeconds(60));
        File.Delete(_bed.Images);

        await _bed.WaitUntilAllTerminalAsync(store, ids, TimeSpan.FromSeconds(60));
        var record = await store.GetAsync(ids[0]);
        Assert.Equal(GenerationStatus.Succeeded, record!.Status);
        Assert.Equal(1, record.Attempts);
        Assert.Equal(1, (await _bed.EmulatorStatsAsync()).Count(FluxModels.Dev));
        Assert.Single(await store.GetFullLedgerAsync(user), e => e.Type == "settle");
        Assert.Equal(StarterGrant - 10, await store.GetBalanceAsync(user));
        Assert.Single(Directory.GetFiles(_bed.Images, "*.png", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(otherImages) && Directory.EnumerateFiles(otherImages, "*", SearchOption.AllDirectories).Any());
    }

    /// <summary>
    /// A provider and a worker whose image folder is a plain file, so every image write fails until
    /// the test deletes it; the visibility timeout is the production default (6 min), which the job
    /// would wait without the retry in place.
    /// </summary>
    private async Task<ServiceProcess> StartWorkerWhoseImageFolderIsAFileAsync(string name, string retryDelay, Dictionary<string, string>? extra = null)
    {
        await StartEmulatorAsync([]);
        await File.WriteAllTextAsync(_bed.Images, "not a folder", TestContext.Current.CancellationToken);
        var settings = new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeout"] = "00:06:00",
            ["Worker__RetryDelay"] = retryDelay,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return await _bed.StartWorkerAsync(name, extra: settings);
    }

    public ValueTask DisposeAsync() => _bed.DisposeAsync();
}
