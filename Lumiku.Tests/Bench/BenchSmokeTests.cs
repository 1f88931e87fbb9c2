using System.Text.Json;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// The load generator still works end to end: a few hundred jobs through real processes (redis-server,
/// the inference emulator, api, workers). Asserts outcomes and the report's shape, never throughput: CI machines are shared.
/// </summary>
[Trait("Category", "Bench")]
public sealed class BenchSmokeTests
{
    private static readonly string[] JsonFields =
    [
        "scenario", "jobs", "accepted", "acceptedPerSec", "apiP50Ms", "apiP99Ms", "endToEndPerSec",
        "workerCpuSecondsPer1kJobs", "ownCpuMsPerJob", "allCpuMsPerJob", "cpuSeconds", "peakRssMb", "failures", "non202", "failedGenerations",
        "succeeded", "notTerminal", "ledgerMismatches", "windowSeconds", "otherCpuSeconds",
    ];

    [Fact]
    public void RedisAppendFsync_DefaultsToWhatTheAppHostRuns_AndTakesOnlyRedisPolicies()
    {
        Assert.Equal("always", BenchOptions.Parse([]).RedisAppendFsync);
        Assert.Equal("everysec", BenchOptions.Parse(["--scenario", "accept-only", "--redis-appendfsync", "everysec"]).RedisAppendFsync);
        Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--redis-appendfsync", "sometimes"]));
    }

    [Fact]
    public async Task Smoke_EveryJobSucceeds_AndTheJsonHasEveryFigure()
    {
        var options = BenchOptions.Parse(["--smoke", "--quiet"]);

        var result = await RunAsync(options);

        AssertAllSucceeded(options, result);
        Assert.InRange(result.ImageKbMean, 140, 160);
        using var json = JsonDocument.Parse(result.ToJsonLine());
        foreach (var field in JsonFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
        }

        string[] processes = ["redis", "emulator", "api", "worker-0", "loadgen"];
        Assert.Equal(processes, json.RootElement.GetProperty("cpuSeconds").EnumerateObject().Select(p => p.Name));
        Assert.All(json.RootElement.GetProperty("peakRssMb").EnumerateObject(), p => Assert.True(p.Value.GetDouble() > 0, $"No peak RSS for {p.Name}."));
        Assert.True(result.WorkerCpuSecondsPer1kJobs > 0);
        Assert.Contains("| scenario | jobs | accepted/s | API p50 ms | API p99 ms | end-to-end gen/s |", result.ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Smoke_TwoWorkersOnOneGroup_EveryJobOnce_NoDuplicateEffects()
    {
        var options = BenchOptions.Parse(["--scenario", "two-workers", "--smoke", "--quiet"]);

        var result = await RunAsync(options);

        AssertAllSucceeded(options, result);
        Assert.Equal(2, result.Workers);
        Assert.Contains("worker-1", result.CpuSeconds.Keys);
    }

    // accept-only freezes the workers (SIGSTOP) while submitting and lets them go after; nice starts them under nice.
    [Fact]
    public async Task Smoke_AcceptOnly_WithNicedWorkers_EveryJobSucceedsAfterTheFreeze()
    {
        var options = BenchOptions.Parse(["--scenario", "accept-only", "--worker-nice", "5", "--smoke", "--quiet"]);

        var result = await RunAsync(options);

        AssertAllSucceeded(options, result);
        Assert.True(result.HoldWorkers);
        Assert.Equal(5, result.WorkerNice);
    }

    // Few jobs: with PaintMode=each the emulator paints every image (about 17 ms of CPU at 512x512).
    [Fact]
    public async Task Smoke_EmulatorPaintingEveryImage_EveryJobSucceeds()
    {
        var options = BenchOptions.Parse(["--smoke", "--jobs", "60", "--warmup", "10", "--side", "256", "--image-kb", "0", "--paint-mode", "each", "--quiet"]);

        var result = await RunAsync(options);

        AssertAllSucceeded(options, result);
        Assert.InRange(result.ImageKbMean, 1, 100);
    }

    // --compare-stacks: ours and the old stack (bench/peers/node-bullmq) alternate on the same
    // Redis, emulator and load generator; each run stands alone, the report puts them side by side.
    [Fact]
    public async Task Smoke_CompareStacks_RunsOursThenTheOldStack_EachCompleteWithOwnCpu()
    {
        var options = BenchOptions.Parse(["--compare-stacks", "1", "--smoke", "--quiet"]) with { Timeout = TimeSpan.FromSeconds(60) };

        var report = (StackComparison)await BenchScenarios.RunAsync(options, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken);

        var (ours, old) = Assert.Single(report.Pairs);
        Assert.Equal("lumiku", ours.Stack);
        Assert.Equal("node-bullmq", old.Stack);
        Assert.Equal(16, old.WorkerConcurrency);
        AssertAllSucceeded(options, ours);
        AssertAllSucceeded(options, old);
        Assert.All([ours, old], r => Assert.True(r.OwnCpuMsPerJob > 0 && r.OwnCpuMsPerJob < r.AllCpuMsPerJob, $"{r.Stack}: own {r.OwnCpuMsPerJob} ms, all {r.AllCpuMsPerJob} ms per job."));
        Assert.Equal(["lumiku", "node-bullmq"], report.JsonLines().Select(l => JsonDocument.Parse(l).RootElement.GetProperty("stack").GetString()));
        Assert.Contains("own CPU ms / job (api + workers) ours / old", report.ToMarkdown(), StringComparison.Ordinal);
        Assert.Equal(0, report.Failures);
    }

    private static Task<BenchResult> RunAsync(BenchOptions options) =>
        BenchRunner.RunAsync(options with { Timeout = TimeSpan.FromSeconds(45) }, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken);

    private static void AssertAllSucceeded(BenchOptions options, BenchResult result)
    {
        Assert.Equal(options.Jobs, result.Accepted);
        Assert.Equal(0, result.Non202);
        Assert.Equal(0, result.NotTerminal);
        Assert.Equal(0, result.FailedGenerations);
        Assert.Equal(options.Jobs, result.Succeeded);
        Assert.Equal(0, result.Failures);
        // Every user's balance and ledger match their jobs: no charge or refund twice, none lost.
        Assert.Equal(0, result.LedgerMismatches);
    }
}
