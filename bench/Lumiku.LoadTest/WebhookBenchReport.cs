using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario webhooks</c>: the pass without webhooks, the pass with them, and their ratios (one
/// JSON line per pass; the webhook line carries the ratios).
/// </summary>
public sealed record WebhookBenchReport(WebhookBenchPass Plain, WebhookBenchPass Webhooks) : IBenchReport
{
    /// <summary>End-to-end gen/s with webhooks over without (1 = webhooks cost the pipeline nothing).</summary>
    public double EndToEndRatio => Ratio(Webhooks.EndToEndPerSec, Plain.EndToEndPerSec);

    /// <summary>Worker CPU per job with webhooks over without.</summary>
    public double WorkerCpuRatio => Ratio(Webhooks.WorkerCpuMsPerJob, Plain.WorkerCpuMsPerJob);

    /// <summary>Api + worker CPU per job with webhooks over without.</summary>
    public double OwnCpuRatio => Ratio(Webhooks.OwnCpuMsPerJob, Plain.OwnCpuMsPerJob);

    public int Failures => Plain.Failures + Webhooks.Failures;

    public IEnumerable<string> JsonLines() =>
    [
        JsonSerializer.Serialize(Plain, BenchResult.JsonOptions),
        JsonSerializer.Serialize(Webhooks with { EndToEndRatio = EndToEndRatio, WorkerCpuRatio = WorkerCpuRatio, OwnCpuRatio = OwnCpuRatio }, BenchResult.JsonOptions),
    ];

    public string ToMarkdown()
    {
        var d = Webhooks.Deliveries;
        var sb = new StringBuilder();
        sb.AppendLine("| pass | jobs | end-to-end gen/s | deliveries/s | delivery lag p50 / p99 / max ms | exactly one terminal delivery | missing / duplicate / wrong type | worker CPU ms / job | own CPU ms / job (api + workers) | other CPU s | failures |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var pass in new[] { Plain, Webhooks })
        {
            var f = pass.Deliveries;
            sb.AppendLine(Inv($"| {pass.Pass} | {pass.Jobs} | {pass.EndToEndPerSec:F0} | {(pass.DeliveriesPerSec is { } r ? r.ToString("F0", CultureInfo.InvariantCulture) : "-")} | {(f is null ? "-" : Inv($"{f.LagP50Ms} / {f.LagP99Ms} / {f.LagMaxMs}"))} | {(f is null ? "-" : Inv($"{f.ExactlyOne} of {pass.Accepted}"))} | {(f is null ? "-" : Inv($"{f.Missing} / {f.Duplicates} / {f.WrongType}"))} | {pass.WorkerCpuMsPerJob:F3} | {pass.OwnCpuMsPerJob:F3} | {pass.OtherCpuSeconds:F1} | {pass.Failures} |"));
        }

        sb.AppendLine(Inv($"| ratio (webhooks / plain) | | {EndToEndRatio:F2} | | | | | {WorkerCpuRatio:F2} | {OwnCpuRatio:F2} | | |"));
        sb.AppendLine();
        sb.AppendLine(Inv($"Commit {Webhooks.Commit}, {Plain.StartedAt:u} and {Webhooks.StartedAt:u}; {d?.Received ?? 0} deliveries received."));
        return sb.ToString();
    }

    private static double Ratio(double a, double b) => b > 0 ? Math.Round(a / b, 3) : 0;

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}

/// <summary>One pass of <c>--scenario webhooks</c>: the pipeline figures, and with webhooks what the receiver got.</summary>
public sealed record WebhookBenchPass
{
    public required string Scenario { get; init; }
    /// <summary><c>plain</c> (no webhooks) or <c>webhooks</c>.</summary>
    public required string Pass { get; init; }
    public required string Commit { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required int Cores { get; init; }
    public required int Jobs { get; init; }
    public required int Warmup { get; init; }
    public required int Concurrency { get; init; }
    public required int Workers { get; init; }
    public required int WorkerConcurrency { get; init; }
    public required int Users { get; init; }
    public required int Accepted { get; init; }
    public required int Non202 { get; init; }
    public required int Succeeded { get; init; }
    public required int FailedGenerations { get; init; }
    public required int NotTerminal { get; init; }
    public required int LedgerMismatches { get; init; }
    /// <summary>First request to the last job's <c>completedAt</c>.</summary>
    public required double EndToEndSeconds { get; init; }
    public required double EndToEndPerSec { get; init; }
    /// <summary>What the receiver got (null without webhooks).</summary>
    public required WebhookDeliveryFigures? Deliveries { get; init; }
    /// <summary>Deliveries received over first request to the last delivery received.</summary>
    public required double? DeliveriesPerSec { get; init; }
    /// <summary>First request to the last delivery received.</summary>
    public required double? DeliverySeconds { get; init; }
    public required double WorkerCpuMsPerJob { get; init; }
    public required double OwnCpuMsPerJob { get; init; }
    public required double AllCpuMsPerJob { get; init; }
    /// <summary>CPU seconds per process over the window: first request to the last terminal state (plain) or the last delivery (webhooks).</summary>
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required IReadOnlyDictionary<string, double> PeakRssMb { get; init; }
    public required double WindowSeconds { get; init; }
    public required double MachineBusyCpuSeconds { get; init; }
    public required double OtherCpuSeconds { get; init; }
    /// <summary>Set on the webhook pass's JSON line: see <see cref="WebhookBenchReport"/>.</summary>
    public double? EndToEndRatio { get; init; }
    public double? WorkerCpuRatio { get; init; }
    public double? OwnCpuRatio { get; init; }

    /// <summary>Requests not accepted, jobs that did not succeed, ledger mismatches and, with webhooks, jobs without exactly one terminal delivery.</summary>
    public int Failures => Non202 + FailedGenerations + NotTerminal + LedgerMismatches
        + (Deliveries is { } d ? d.Missing + d.Duplicates + d.WrongType : 0);
}

/// <summary>
/// What the receiver got for the measured jobs: deliveries, jobs with exactly one delivery of their
/// terminal event, jobs with none, extra copies, other event types, the last arrival (Unix ms) and the
/// lag from the job's <c>completedAt</c> to its delivery's arrival.
/// </summary>
public sealed record WebhookDeliveryFigures(
    int Received,
    int ExactlyOne,
    int Missing,
    int Duplicates,
    int WrongType,
    long LastReceivedAtMs,
    long LagP50Ms,
    long LagP99Ms,
    long LagMaxMs);
