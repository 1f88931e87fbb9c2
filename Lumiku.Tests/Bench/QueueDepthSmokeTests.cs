using System.Text.Json;
using Aspire.Hosting;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// The queue-depth and many-users scenarios still work end to end at small sizes: every loaded job is
/// a real queued generation that the workers then complete, balances and ledgers match. Asserts
/// outcomes and the report's shape, never throughput or latency.
/// </summary>
[Trait("Category", "Bench")]
public sealed class QueueDepthSmokeTests
{
    private static readonly string[] DepthFields =
    [
        "scenario", "commit", "startedAt", "depth", "loaded", "loaderJobsPerSec", "loaderAppendFsync", "bytesPerQueuedJob", "memory",
        "accepted", "acceptedPerSec", "apiP50Ms", "apiP99Ms", "apiCpuMsPerRequest", "drainSample", "drainJobsPerSec",
        "dispatchP50Ms", "dispatchP99Ms", "ledgerMismatches", "cpuSeconds", "peakRssMb", "otherCpuSeconds", "failures",
    ];

    private static readonly string[] ManyUsersFields =
    [
        "scenario", "commit", "startedAt", "users", "jobs", "accepted", "acceptedPerSec", "apiCpuMsPerRequest",
        "apiRssEndMb", "apiPeakRssMb", "ledgerMismatches", "cpuSeconds", "otherCpuSeconds", "failures",
    ];

    [Fact]
    public void BenchRedis_HasTheAppHostsMemorySettings() =>
        Assert.Equal(RedisModeExtensions.MemoryArgs, BenchCluster.RedisMemoryArgs);

    [Fact]
    public async Task Smoke_QueueDepth_EveryLoadedJobIsQueued_ThenCompleted_LedgersMatch()
    {
        var options = BenchOptions.Parse(["--scenario", "queue-depth", "--sizes", "200,2000", "--jobs", "100", "--warmup", "20", "--concurrency", "16", "--users", "8", "--quiet"]);

        var report = await QueueDepthRunner.RunAsync(options with { Timeout = TimeSpan.FromSeconds(60) }, Log, TestContext.Current.CancellationToken);

        Assert.Equal([200, 2000], report.Points.Select(p => p.Depth));
        foreach (var point in report.Points)
        {
            Assert.Equal(point.Depth, point.Loaded);
            Assert.Empty(point.LoadRefused);
            Assert.Equal(0, point.LoadedNotQueued);
            Assert.True(point.StreamLength >= point.Depth, $"The stream holds {point.StreamLength} entries for {point.Depth} loaded jobs.");
            Assert.Equal(options.Jobs, point.Accepted);
            // The whole queue is the drain sample at these sizes: every loaded and submitted job succeeds.
            Assert.Equal(point.Depth + options.Jobs, point.DrainSample);
            Assert.Equal(point.DrainSample, point.DrainSucceeded);
            Assert.Equal(0, point.LedgerMismatches);
            Assert.True(point.LedgerUsersChecked > options.Users);
            Assert.Equal("listpack", point.Memory.RecordEncoding);
            Assert.Equal(0, point.Failures);
            AssertFields(JsonSerializer.Serialize(point, BenchResult.JsonOptions), DepthFields);
        }

        Assert.Equal(0, report.Failures);
        Assert.Equal(2, report.JsonLines().Count());
    }

    [Fact]
    public async Task Smoke_ManyUsers_EachUserOnce_AgainstSixtyFour_LedgersMatch()
    {
        var options = BenchOptions.Parse(["--scenario", "many-users", "--smoke", "--users", "2000", "--jobs", "2000", "--warmup", "20", "--quiet"]);

        var report = await ManyUsersRunner.RunAsync(options with { Timeout = TimeSpan.FromSeconds(60) }, Log, TestContext.Current.CancellationToken);

        Assert.Equal([ManyUsersRunner.BaselineUsers, 2000], report.Points.Select(p => p.Users));
        foreach (var point in report.Points)
        {
            Assert.Equal(options.Jobs, point.Accepted);
            Assert.Equal(0, point.Non202);
            Assert.Equal(point.DrainSample, point.Succeeded);
            Assert.Equal(0, point.LedgerMismatches);
            Assert.Equal(Math.Min(point.Users, ManyUsersRunner.Sample), point.LedgerUsersChecked);
            Assert.True(point.ApiRssEndMb > 0 && point.ApiPeakRssMb > 0);
            AssertFields(JsonSerializer.Serialize(point, BenchResult.JsonOptions), ManyUsersFields);
        }

        Assert.Equal(0, report.Failures);
    }

    private static void AssertFields(string json, string[] fields)
    {
        using var document = JsonDocument.Parse(json);
        foreach (var field in fields)
        {
            Assert.True(document.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
        }
    }

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
