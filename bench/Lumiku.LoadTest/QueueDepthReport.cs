using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>The queue-depth curve: one <see cref="QueueDepthPoint"/> (and one JSON line) per depth.</summary>
public sealed record QueueDepthReport(IReadOnlyList<QueueDepthPoint> Points) : IBenchReport
{
    public int Failures => Points.Sum(p => p.Failures);

    public IEnumerable<string> JsonLines() => BenchText.JsonLines(Points);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| depth | loader jobs/s | B / queued job (record, stream entry, index, ledger entry) | record encoding | accepted/s | API p50 / p99 ms | api CPU ms / req | Redis CPU ms / req | drain jobs/s (sample) | dispatch p50 / p99 ms | worker CPU ms / job | other CPU s | failures |");
        sb.AppendLine("|---:|---:|---|---|---:|---|---:|---:|---|---|---:|---:|---:|");
        foreach (var p in Points)
        {
            var m = p.Memory;
            sb.AppendLine(Inv($"| {p.Depth:N0} | {p.LoaderJobsPerSec:F0} | {p.BytesPerQueuedJob:F0} ({m.RecordBytes}, {m.StreamBytesPerEntry:F0}, {m.UserIndexBytesPerEntry:F0}, {m.LedgerBytesPerEntry:F0}) | {m.RecordEncoding} | {p.AcceptedPerSec:F0} | {p.ApiP50Ms:F1} / {p.ApiP99Ms:F1} | {p.ApiCpuMsPerRequest:F3} | {p.RedisCpuMsPerRequest:F3} | {p.DrainJobsPerSec:F0} ({p.DrainSample}) | {p.DispatchP50Ms:F0} / {p.DispatchP99Ms:F0} | {p.WorkerCpuMsPerDrainedJob:F3} | {p.OtherCpuSeconds:F1} | {p.Failures} |"));
        }

        return sb.ToString();
    }

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}

/// <summary>What a queue of one depth costs: the load, Redis memory, the api over HTTP, and the drain of its head.</summary>
public sealed record QueueDepthPoint
{
    public required string Scenario { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required string Commit { get; init; }
    public required int Cores { get; init; }
    public required string RedisPersistence { get; init; }
    public required string? RedisAppendFsync { get; init; }

    /// <summary>Jobs the bulk loader queued through the submit script (the queue's depth).</summary>
    public required int Depth { get; init; }
    public required int LoaderUsers { get; init; }
    public required int LoaderInFlight { get; init; }
    /// <summary>The AOF fsync policy while loading (the measured phases run with <see cref="RedisAppendFsync"/>).</summary>
    public required string? LoaderAppendFsync { get; init; }
    public required int Loaded { get; init; }
    public required IReadOnlyDictionary<string, int> LoadRefused { get; init; }
    /// <summary>Context, not a headline: submits per second straight into the script, no HTTP.</summary>
    public required double LoaderJobsPerSec { get; init; }
    public required double LoadSeconds { get; init; }
    /// <summary>Redis CPU per loaded job: what the submit script costs as the queue grows.</summary>
    public required double RedisCpuMsPerLoadedJob { get; init; }
    /// <summary>Of a sample of loaded jobs read back, those not queued with a queueSeq and an entryId.</summary>
    public required int LoadedNotQueued { get; init; }
    public required long StreamLength { get; init; }

    public required long UsedMemoryBefore { get; init; }
    public required long UsedMemoryAfter { get; init; }
    /// <summary>(used_memory after the load − before) ÷ loaded jobs: record, stream entry, indexes, ledger entry.</summary>
    public required double BytesPerQueuedJob { get; init; }
    public required QueueMemory Memory { get; init; }
    /// <summary><c>MEMORY USAGE</c> of a record submitted over HTTP (to compare with the loaded ones).</summary>
    public required long HttpRecordBytes { get; init; }

    /// <summary><c>POST /v1/generations</c> measured at this depth.</summary>
    public required int Jobs { get; init; }
    public required int Concurrency { get; init; }
    public required int Users { get; init; }
    public required int Accepted { get; init; }
    public required int Non202 { get; init; }
    public required string? FirstError { get; init; }
    public required double AcceptedPerSec { get; init; }
    public required double ApiP50Ms { get; init; }
    public required double ApiP99Ms { get; init; }
    public required double ApiCpuMsPerRequest { get; init; }
    public required double RedisCpuMsPerRequest { get; init; }
    /// <summary>The Redis commands that took the most time in the HTTP phase (INFO commandstats).</summary>
    public required IReadOnlyDictionary<string, RedisCommandStat> RedisCommandsHttp { get; init; }

    /// <summary>Jobs at the head of the queue timed after the release (the same count at every depth when D is large enough).</summary>
    public required int DrainSample { get; init; }
    public required int Drained { get; init; }
    public required int DrainSucceeded { get; init; }
    public required int DrainNotTerminal { get; init; }
    /// <summary>Sample jobs terminal per second, from the release (SIGCONT) to the last completedAt.</summary>
    public required double DrainJobsPerSec { get; init; }
    /// <summary>From the release to the first startedAt.</summary>
    public required long FirstStartMs { get; init; }
    /// <summary>startedAt − max(createdAt, release) over the sample: the wait of a queued job once workers run.</summary>
    public required double DispatchP50Ms { get; init; }
    public required double DispatchP99Ms { get; init; }
    /// <summary>p99 of the gap between consecutive startedAt in the sample: a stall would show here.</summary>
    public required double StartGapP99Ms { get; init; }
    public required double WorkerCpuMsPerDrainedJob { get; init; }
    public required double RedisCpuMsPerDrainedJob { get; init; }
    /// <summary>The Redis commands that took the most time while the sample drained (the bench's own polling included).</summary>
    public required IReadOnlyDictionary<string, RedisCommandStat> RedisCommandsDrain { get; init; }

    public required int LedgerUsersChecked { get; init; }
    public required int LedgerMismatches { get; init; }

    /// <summary>CPU seconds per process from the start of the load to the end of the drain sample.</summary>
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required IReadOnlyDictionary<string, double> PeakRssMb { get; init; }
    public required double WindowSeconds { get; init; }
    public required double MachineBusyCpuSeconds { get; init; }
    /// <summary>Busy CPU seconds in the window that were none of ours (other engineers' builds and runs).</summary>
    public required double OtherCpuSeconds { get; init; }

    /// <summary>Refused loads and requests, sample jobs not succeeded, loaded jobs not queued, ledger mismatches.</summary>
    public int Failures => LoadRefused.Values.Sum() + Non202 + (DrainSample - DrainSucceeded) + LoadedNotQueued + LedgerMismatches;
}

/// <summary><c>MEMORY USAGE</c> and <c>OBJECT ENCODING</c> of what one queued job is made of.</summary>
public sealed record QueueMemory
{
    /// <summary>Mean over 20 loaded records.</summary>
    public required long RecordBytes { get; init; }
    /// <summary><c>listpack</c> while every field fits hash-max-listpack-value/-entries, else <c>hashtable</c>.</summary>
    public required string RecordEncoding { get; init; }
    public required long RecordFields { get; init; }
    public required long RecordLongestValue { get; init; }
    public required double StreamBytesPerEntry { get; init; }
    public required double UserIndexBytesPerEntry { get; init; }
    public required string UserIndexEncoding { get; init; }
    public required double LedgerBytesPerEntry { get; init; }
    public required long Keys { get; init; }
}

/// <summary>One line of <c>INFO commandstats</c>: calls and µs per call.</summary>
public sealed record RedisCommandStat(long Calls, double UsecPerCall);
