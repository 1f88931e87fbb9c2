using System.Text.Json;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// The gallery scenario still works end to end at a small size: histories seeded through the store's
/// scripts, every read route answered 200 with the pages a user expects. Never asserts latency or CPU.
/// </summary>
[Trait("Category", "Bench")]
public sealed class GallerySmokeTests
{
    private static readonly string[] Routes = ["avatars-first", "avatars-deep", "generations-first", "failed-first", "canceled-first", "ledger-first", "ledger-deep"];

    private static readonly string[] JsonFields =
    [
        "scenario", "commit", "startedAt", "size", "route", "path", "page", "requests", "items", "p50Ms", "p99Ms",
        "apiCpuMsPerRequest", "redisCpuMsPerRequest", "redisCommandsPerRequest", "redisCommandsByName", "cpuSeconds", "otherCpuSeconds",
    ];

    [Fact]
    public void Preset_MeasuresTheIssuesSizes_With500GetsPerRouteOverFourConnections()
    {
        var options = BenchOptions.Parse(["--scenario", "gallery"]);

        Assert.Equal([10, 10_000, 100_000], options.Sizes);
        Assert.Equal(500, options.Jobs);
        Assert.Equal(4, options.Concurrency);
        Assert.Equal([10, 500], BenchOptions.Parse(["--scenario", "gallery", "--sizes", "10,500"]).Sizes);
    }

    [Fact]
    public async Task Smoke_EveryReadAnswers200_WithTheExpectedPages_AndTheDeepPagesAreReached()
    {
        var options = BenchOptions.Parse(["--scenario", "gallery", "--sizes", "10,500", "--jobs", "40", "--quiet"]);

        var report = await GalleryRunner.RunAsync(
            options, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken);

        Assert.Equal(0, report.Failures);
        Assert.Equal([10, 10, 10, 10, 10, 10, 10, 500, 500, 500, 500, 500, 500, 500], report.Measurements.Select(m => m.Size));
        Assert.Equal(Routes.Concat(Routes), report.Measurements.Select(m => m.Route));
        Assert.All(report.Measurements, m =>
        {
            Assert.Equal(40, m.Requests);
            Assert.Equal(["200"], m.StatusCounts.Keys);
            Assert.Empty(m.MissingFields);
            Assert.Equal(m.ExpectedItems, m.Items);
        });

        var big = report.Measurements.Where(m => m.Size == 500).ToDictionary(m => m.Route);
        Assert.Equal(20, big["avatars-first"].Items);
        Assert.True(big["avatars-first"].HasNextCursor);
        // 500 generations: 5 canceled, 5 failed, 490 avatars in 25 pages; the last one has 10 and no next cursor.
        Assert.Equal(25, big["avatars-deep"].Page);
        Assert.Equal(10, big["avatars-deep"].Items);
        Assert.False(big["avatars-deep"].HasNextCursor);
        Assert.True(big["ledger-deep"].Page > 1);
        Assert.Equal(5, big["failed-first"].WalkItems);
        Assert.Equal(5, big["canceled-first"].WalkItems);

        var lines = report.JsonLines().ToArray();
        Assert.Equal(report.Measurements.Count, lines.Length);
        using var json = JsonDocument.Parse(lines[^1]);
        foreach (var field in JsonFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
        }

        Assert.Equal("gallery", json.RootElement.GetProperty("scenario").GetString());
        Assert.Contains("api", json.RootElement.GetProperty("cpuSeconds").EnumerateObject().Select(p => p.Name));
        Assert.Contains("| size | route | page | items | p50 ms | p99 ms |", report.ToMarkdown(), StringComparison.Ordinal);
    }
}
