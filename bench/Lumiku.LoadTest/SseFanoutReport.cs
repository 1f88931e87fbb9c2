using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>The figures of one <c>sse-fanout</c> size: one JSON line.</summary>
public sealed record SseFanoutPoint
{
    public required string Scenario { get; init; }
    public required string Commit { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required int Cores { get; init; }
    public required int Watchers { get; init; }
    public required int Users { get; init; }
    /// <summary>Completions per second the provider pacing aims at (<c>--rate</c>).</summary>
    public required int TargetRatePerSec { get; init; }
    public required int WorkerSlots { get; init; }
    public required int EmulatorLatencyMs { get; init; }
    public required int? ImageKb { get; init; }
    public required int Accepted { get; init; }
    public required int Non202 { get; init; }
    public required int Succeeded { get; init; }
    public required int NotTerminal { get; init; }
    /// <summary>Streams answered 200.</summary>
    public required int WatchersOpen { get; init; }
    public required int WatcherErrors { get; init; }
    public required string? FirstError { get; init; }
    /// <summary>Watchers that saw exactly one terminal event (the goal: all of them).</summary>
    public required int ExactlyOneTerminal { get; init; }
    /// <summary>Watchers whose first event was already terminal (opened after the job ended): no latency sample.</summary>
    public required int LateStreams { get; init; }
    public required double EventsPerWatcher { get; init; }
    public required double ApiRssBeforeMb { get; init; }
    public required double ApiRssIdleMb { get; init; }
    public required double ApiRssKbPerWatcher { get; init; }
    public required double IdleSeconds { get; init; }
    /// <summary>CPU seconds per process while every watcher was open on a queued job and nothing completed.</summary>
    public required IReadOnlyDictionary<string, double> IdleCpuSeconds { get; init; }
    public required double ApiIdleCpuUsPerWatcherSecond { get; init; }
    public required double RedisIdleCpuUsPerWatcherSecond { get; init; }
    public required double FlowSeconds { get; init; }
    /// <summary>Completions per second achieved (first to last <c>completedAt</c>).</summary>
    public required double CompletedPerSec { get; init; }
    /// <summary>CPU seconds per process from the workers' release to the last stream's end.</summary>
    public required IReadOnlyDictionary<string, double> FlowCpuSeconds { get; init; }
    public required double ApiFlowCpuMsPerWatcher { get; init; }
    /// <summary>api + worker CPU ms per job over the flow window.</summary>
    public required double OwnCpuMsPerJob { get; init; }
    public required IReadOnlyDictionary<string, double> PeakRssMb { get; init; }
    /// <summary>Redis pub/sub channels matching <c>lumiku:events:*</c> with a subscriber, while idle.</summary>
    public required int RedisChannels { get; init; }
    public required int RedisPatterns { get; init; }
    public required int RedisClients { get; init; }
    public required int RedisSubscriberClients { get; init; }
    public required int LatencySamples { get; init; }
    /// <summary>Worker's <c>completedAt</c> (ms, Unix) to the terminal event read at the client (µs clock): 1 ms resolution.</summary>
    public required double CompleteToEventP50Ms { get; init; }
    public required double CompleteToEventP99Ms { get; init; }
    public required double CompleteToEventMaxMs { get; init; }
    /// <summary>Busy CPU seconds in the flow window that were none of ours.</summary>
    public required double OtherCpuSeconds { get; init; }

    /// <summary>Anything a user would call broken: not accepted, not succeeded, no stream, not exactly one terminal event.</summary>
    public int Failures => Non202 + (Accepted - Succeeded) + WatcherErrors + (Accepted - ExactlyOneTerminal);
}

/// <summary>Every size of one <c>sse-fanout</c> run.</summary>
public sealed record SseFanoutReport(IReadOnlyList<SseFanoutPoint> Points) : IBenchReport
{
    public int Failures => Points.Sum(p => p.Failures);

    public IEnumerable<string> JsonLines() => BenchText.JsonLines(Points);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| watchers | users | api RSS KB / watcher | api idle CPU µs / watcher·s | redis idle CPU µs / watcher·s | api CPU ms / watcher (flow) | completed/s | complete → event p50 / p99 / max ms | channels / patterns / subscriber clients | exactly one terminal | late | other CPU s |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|");
        foreach (var p in Points)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {p.Watchers} | {p.Users} | {p.ApiRssKbPerWatcher:F1} | {p.ApiIdleCpuUsPerWatcherSecond:F1} | {p.RedisIdleCpuUsPerWatcherSecond:F1} | {p.ApiFlowCpuMsPerWatcher:F3} | {p.CompletedPerSec:F0} | {p.CompleteToEventP50Ms:F1} / {p.CompleteToEventP99Ms:F1} / {p.CompleteToEventMaxMs:F1} | {p.RedisChannels} / {p.RedisPatterns} / {p.RedisSubscriberClients} | {p.ExactlyOneTerminal} | {p.LateStreams} | {p.OtherCpuSeconds:F1} |"));
        }

        return sb.ToString();
    }
}
