using System.Text.Json;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// The sse-fanout scenario still works end to end at a small size: every job queued while the workers
/// are frozen gets a watcher, and every watcher sees exactly one terminal event once they run.
/// Asserts outcomes and the report's shape, never latency or CPU figures.
/// </summary>
[Trait("Category", "Bench")]
public sealed class SseFanoutSmokeTests
{
    private static readonly string[] JsonFields =
    [
        "scenario", "commit", "startedAt", "watchers", "users", "accepted", "succeeded", "watchersOpen", "exactlyOneTerminal",
        "apiRssKbPerWatcher", "apiIdleCpuUsPerWatcherSecond", "apiFlowCpuMsPerWatcher", "idleCpuSeconds", "flowCpuSeconds",
        "redisChannels", "redisPatterns", "redisClients", "redisSubscriberClients", "latencySamples",
        "completeToEventP50Ms", "completeToEventP99Ms", "otherCpuSeconds", "failures",
    ];

    [Fact]
    public async Task Smoke_200Watchers_OverTwoUsers_EachSeesExactlyOneTerminalEvent()
    {
        var options = BenchOptions.Parse(["--scenario", "sse-fanout", "--sizes", "200", "--rate", "100", "--warmup", "10", "--quiet"]);

        var report = await SseFanoutRunner.RunAsync(
            options with { Timeout = TimeSpan.FromSeconds(45) }, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken);

        var point = Assert.Single(report.Points);
        Assert.Equal(200, point.Accepted);
        Assert.Equal(200, point.Succeeded);
        Assert.Equal(200, point.WatchersOpen);
        Assert.Equal(0, point.WatcherErrors);
        Assert.Equal(200, point.ExactlyOneTerminal);
        // Opened while the workers were frozen: every watcher saw its job queued first, so each has a latency sample.
        Assert.Equal(0, point.LateStreams);
        Assert.Equal(200, point.LatencySamples);
        Assert.Equal(0, report.Failures);
        using var json = JsonDocument.Parse(Assert.Single(report.JsonLines()));
        foreach (var field in JsonFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
        }

        Assert.Contains("| watchers | users |", report.ToMarkdown(), StringComparison.Ordinal);
    }
}
