using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>The figures of one <c>added-latency</c> phase (idle, or beside a background load): one JSON line.</summary>
public sealed record AddedLatencyPoint
{
    public required string Scenario { get; init; }
    public required string Commit { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required int Cores { get; init; }
    /// <summary><c>idle</c>, or <c>bgN</c> beside N unwatched jobs per second.</summary>
    public required string Phase { get; init; }
    public required int Jobs { get; init; }
    public required int RatePerSec { get; init; }
    public required int BackgroundRatePerSec { get; init; }
    public required int BackgroundAccepted { get; init; }
    public required int EmulatorLatencyMs { get; init; }
    public required int? ImageKb { get; init; }
    public required int WorkerConcurrency { get; init; }
    public required int Accepted { get; init; }
    public required int Non202 { get; init; }
    public required string? FirstError { get; init; }
    public required int Succeeded { get; init; }
    public required int NotTerminal { get; init; }
    /// <summary>Jobs whose stream saw exactly one terminal event.</summary>
    public required int ExactlyOneTerminal { get; init; }
    /// <summary>Streams that opened after their job had ended (first event terminal): no answer → event sample.</summary>
    public required int LateStreams { get; init; }
    public required int SubmitToProviderSamples { get; init; }
    /// <summary>Client wall clock before the POST → the emulator's <c>receivedAt</c> (both µs clocks).</summary>
    public required double SubmitToProviderP50Ms { get; init; }
    public required double SubmitToProviderP99Ms { get; init; }
    public required double SubmitToProviderMaxMs { get; init; }
    public required int ProviderToEventSamples { get; init; }
    /// <summary>The emulator's answer ready (<c>at</c>) → the terminal SSE event read at the client.</summary>
    public required double ProviderToEventP50Ms { get; init; }
    public required double ProviderToEventP99Ms { get; init; }
    public required double ProviderToEventMaxMs { get; init; }
    /// <summary>The submit's own round trip (POST → 202) at the client.</summary>
    public required double ApiP50Ms { get; init; }
    public required double ApiP99Ms { get; init; }
    /// <summary>
    /// [p50, p99] ms of each segment, from the record's ms stamps (api <c>createdAt</c>, worker <c>startedAt</c>
    /// and <c>completedAt</c>) and the emulator's and client's µs clocks: sent → createdAt, createdAt → startedAt,
    /// startedAt → provider received, provider answer → completedAt, completedAt → event.
    /// </summary>
    public required IReadOnlyDictionary<string, double[]> BreakdownP50P99Ms { get; init; }
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required double OtherCpuSeconds { get; init; }

    /// <summary>Anything a user would call broken: not accepted, not succeeded, not exactly one terminal event.</summary>
    public int Failures => Non202 + (Accepted - Succeeded) + (Accepted - ExactlyOneTerminal);
}

/// <summary>Every phase of one <c>added-latency</c> run.</summary>
public sealed record AddedLatencyReport(IReadOnlyList<AddedLatencyPoint> Points) : IBenchReport
{
    public int Failures => Points.Sum(p => p.Failures);

    public IEnumerable<string> JsonLines() => BenchText.JsonLines(Points);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| phase | jobs at /s | background jobs/s | submit → provider p50 / p99 / max ms | provider answer → SSE event p50 / p99 / max ms | POST → 202 p50 / p99 ms | late streams | exactly one terminal | other CPU s |");
        sb.AppendLine("|---|---:|---:|---|---|---|---:|---:|---:|");
        foreach (var p in Points)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {p.Phase} | {p.Jobs} at {p.RatePerSec} | {p.BackgroundRatePerSec} | {p.SubmitToProviderP50Ms:F1} / {p.SubmitToProviderP99Ms:F1} / {p.SubmitToProviderMaxMs:F1} | {p.ProviderToEventP50Ms:F1} / {p.ProviderToEventP99Ms:F1} / {p.ProviderToEventMaxMs:F1} | {p.ApiP50Ms:F1} / {p.ApiP99Ms:F1} | {p.LateStreams} | {p.ExactlyOneTerminal} | {p.OtherCpuSeconds:F1} |"));
        }

        sb.AppendLine();
        sb.AppendLine("Where the time goes, p50 / p99 ms: " + string.Join(" · ", Points.Select(p =>
            p.Phase + ": " + string.Join(", ", p.BreakdownP50P99Ms.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value[0]:F1} / {kv.Value[1]:F1}"))))));
        return sb.ToString();
    }
}
