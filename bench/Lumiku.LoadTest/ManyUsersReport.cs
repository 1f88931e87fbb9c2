using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>The many-users comparison: the 64-user run and the many-user run of one sitting, a JSON line each.</summary>
public sealed record ManyUsersReport(IReadOnlyList<ManyUsersPoint> Points) : IBenchReport
{
    public int Failures => Points.Sum(p => p.Failures);

    public IEnumerable<string> JsonLines() => BenchText.JsonLines(Points);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| users | jobs | accepted/s | API p50 / p99 ms | api CPU ms / req | api RSS MB before / end / 15 s idle / peak | other CPU s | failures |");
        sb.AppendLine("|---:|---:|---:|---|---:|---|---:|---:|");
        foreach (var p in Points)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {p.Users:N0} | {p.Jobs:N0} | {p.AcceptedPerSec:F0} | {p.ApiP50Ms:F1} / {p.ApiP99Ms:F1} | {p.ApiCpuMsPerRequest:F3} | {p.ApiRssBeforeMb:F0} / {p.ApiRssEndMb:F0} / {p.ApiRssIdleMb:F0} / {p.ApiPeakRssMb:F0} | {p.OtherCpuSeconds:F1} | {p.Failures} |"));
        }

        return sb.ToString();
    }
}

/// <summary>One run of the many-users comparison.</summary>
public sealed record ManyUsersPoint
{
    public required string Scenario { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required string Commit { get; init; }
    public required int Cores { get; init; }
    public required string? RedisAppendFsync { get; init; }
    /// <summary>Distinct users (tokens) the requests were spread over; job i is user i mod users's.</summary>
    public required int Users { get; init; }
    public required int Jobs { get; init; }
    public required int Concurrency { get; init; }
    public required int Accepted { get; init; }
    public required int Non202 { get; init; }
    public required string? FirstError { get; init; }
    public required double AcceptedPerSec { get; init; }
    public required double ApiP50Ms { get; init; }
    public required double ApiP99Ms { get; init; }
    public required double ApiCpuMsPerRequest { get; init; }
    /// <summary>The api's resident set after the warm-up, before the measured submits.</summary>
    public required double ApiRssBeforeMb { get; init; }
    public required double ApiRssEndMb { get; init; }
    /// <summary>15 s after the last submit, nothing running: per-user state that expires is gone by then.</summary>
    public required double ApiRssIdleMb { get; init; }
    public required double ApiPeakRssMb { get; init; }
    /// <summary>The first jobs, drained by the workers after the submits (not timed).</summary>
    public required int DrainSample { get; init; }
    public required int Succeeded { get; init; }
    public required int NotTerminal { get; init; }
    public required int LedgerUsersChecked { get; init; }
    public required int LedgerMismatches { get; init; }
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required IReadOnlyDictionary<string, double> PeakRssMb { get; init; }
    public required double WindowSeconds { get; init; }
    public required double MachineBusyCpuSeconds { get; init; }
    public required double OtherCpuSeconds { get; init; }

    public int Failures => Non202 + (DrainSample - Succeeded) + LedgerMismatches;
}
