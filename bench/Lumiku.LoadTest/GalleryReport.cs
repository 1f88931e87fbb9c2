using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>One route measured at one history size: what a JSON line of the gallery scenario holds.</summary>
public sealed record GalleryMeasurement
{
    public string Scenario { get; init; } = "gallery";
    public required string Commit { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required int Cores { get; init; }
    /// <summary>Generations of the measured user.</summary>
    public required int Size { get; init; }
    /// <summary>What was read, e.g. <c>avatars-deep</c>.</summary>
    public required string Route { get; init; }
    /// <summary>The request path and query, cursor included.</summary>
    public required string Path { get; init; }
    /// <summary>For deep pages: how many pages were followed to reach this one (1 = the first page).</summary>
    public required int Page { get; init; }
    public required int Requests { get; init; }
    public required int Connections { get; init; }
    public required IReadOnlyDictionary<string, int> StatusCounts { get; init; }
    /// <summary>Requests not answered 200 (transport errors count as status 0).</summary>
    public required int Non200 { get; init; }
    /// <summary>Items in the page (the same for every request of the route).</summary>
    public required int Items { get; init; }
    public required int ExpectedItems { get; init; }
    public required bool HasNextCursor { get; init; }
    /// <summary>Fields a client needs that the first response lacked (empty when all are there).</summary>
    public required IReadOnlyList<string> MissingFields { get; init; }
    public required double P50Ms { get; init; }
    public required double P99Ms { get; init; }
    public required double MaxMs { get; init; }
    public required double RequestsPerSec { get; init; }
    /// <summary>CPU ms of the api process per request.</summary>
    public required double ApiCpuMsPerRequest { get; init; }
    /// <summary>CPU ms of redis-server per request.</summary>
    public required double RedisCpuMsPerRequest { get; init; }
    /// <summary>Commands Redis executed per request (INFO commandstats delta; a script's own calls included).</summary>
    public required double RedisCommandsPerRequest { get; init; }
    /// <summary>Commands per request by name, the busiest first.</summary>
    public required IReadOnlyDictionary<string, double> RedisCommandsByName { get; init; }
    /// <summary>CPU seconds per process over the route's measured requests.</summary>
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required double WindowSeconds { get; init; }
    public required double MachineBusyCpuSeconds { get; init; }
    /// <summary>Busy CPU seconds that were none of ours: other engineers' builds and the rest of the machine.</summary>
    public required double OtherCpuSeconds { get; init; }
    /// <summary>
    /// For a filtered route: requests it takes to walk the whole filter from the first page (cursor by
    /// cursor), and the items found on the way (should be every seeded match). Null for others.
    /// </summary>
    public int? WalkRequests { get; init; }
    public int? WalkItems { get; init; }
    public int? ExpectedWalkItems { get; init; }
    /// <summary>Seconds spent seeding this size (the measured user and the others).</summary>
    public required double SeedSeconds { get; init; }
}

/// <summary>The gallery scenario's report: one JSON line per size and route, one markdown table.</summary>
public sealed record GalleryReport(IReadOnlyList<GalleryMeasurement> Measurements) : IBenchReport
{
    /// <summary>Requests not answered 200, pages with the wrong count or missing fields, walks that missed items.</summary>
    public int Failures => Measurements.Sum(m =>
        m.Non200
        + (m.Items == m.ExpectedItems ? 0 : 1)
        + (m.MissingFields.Count == 0 ? 0 : 1)
        + (m.WalkItems == m.ExpectedWalkItems ? 0 : 1));

    public IEnumerable<string> JsonLines() => BenchText.JsonLines(Measurements);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| size | route | page | items | p50 ms | p99 ms | api CPU ms / req | redis CPU ms / req | Redis cmds / req | walk: requests (items) | non-200 | other CPU s |");
        sb.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        foreach (var m in Measurements)
        {
            var walk = m.WalkRequests is { } w ? Inv($"{w} ({m.WalkItems}/{m.ExpectedWalkItems})") : "";
            sb.AppendLine(Inv($"| {m.Size:N0} | {m.Route} | {m.Page} | {m.Items}{(m.Items == m.ExpectedItems ? "" : $" (expected {m.ExpectedItems})")} | {m.P50Ms:F2} | {m.P99Ms:F2} | {m.ApiCpuMsPerRequest:F3} | {m.RedisCpuMsPerRequest:F3} | {m.RedisCommandsPerRequest:F1} | {walk} | {m.Non200} | {m.OtherCpuSeconds:F2} |"));
        }

        if (Measurements.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine(Inv($"commit {Measurements[0].Commit}, {Measurements[0].StartedAt:yyyy-MM-dd HH:mm} UTC; {Measurements[0].Requests} requests per route over {Measurements[0].Connections} connections."));
        }

        return sb.ToString();
    }

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}
