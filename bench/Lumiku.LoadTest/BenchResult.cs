using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lumiku.LoadTest;

/// <summary>What a scenario reports: JSON lines (one per run) and a markdown summary.</summary>
public interface IBenchReport
{
    /// <summary>Requests not accepted plus jobs that did not succeed; the exit code is 1 when above 0.</summary>
    int Failures { get; }

    /// <summary>One JSON object per line, for <c>bench/results/runs.jsonl</c>.</summary>
    IEnumerable<string> JsonLines();

    string ToMarkdown();
}

/// <summary>The figures of one run: what the JSON line and the markdown table show.</summary>
public sealed record BenchResult : IBenchReport
{
    public required string Scenario { get; init; }
    /// <summary><c>lumiku</c>, or <c>node-bullmq</c> for the old stack rebuilt as a peer.</summary>
    public string Stack { get; init; } = "lumiku";
    public required DateTimeOffset StartedAt { get; init; }
    public required string Commit { get; init; }
    public required int Cores { get; init; }
    public required int Jobs { get; init; }
    public required int Warmup { get; init; }
    public required int Concurrency { get; init; }
    public required int Workers { get; init; }
    /// <summary><c>files</c> or <c>blob</c>.</summary>
    public string Storage { get; init; } = "files";
    /// <summary>Api processes the load was spread over.</summary>
    public int ApiReplicas { get; init; } = 1;
    public required int WorkerConcurrency { get; init; }
    public required int EmulatorLatencyMs { get; init; }
    public required int? ImageKb { get; init; }
    public required string Tier { get; init; }
    public required string PaintMode { get; init; }
    public required int Side { get; init; }
    public required int Users { get; init; }
    public required string RedisPersistence { get; init; }
    /// <summary>The AOF's fsync policy (always, everysec, no); null in runs recorded before the option existed.</summary>
    public string? RedisAppendFsync { get; init; }
    /// <summary>Workers were frozen while the measured jobs were submitted (scenario accept-only).</summary>
    public bool HoldWorkers { get; init; }
    /// <summary>The workers ran under <c>nice -n</c> this value.</summary>
    public int WorkerNice { get; init; }
    /// <summary>The folder the images went to (<c>/dev/shm/…</c> is tmpfs).</summary>
    public required string ImagesDirectory { get; init; }

    public required int Accepted { get; init; }
    /// <summary>Accepted per second, first request to last response.</summary>
    public required double AcceptedPerSec { get; init; }
    public required double ApiP50Ms { get; init; }
    public required double ApiP99Ms { get; init; }
    public required double ApiMaxMs { get; init; }
    /// <summary>Terminal generations per second, first request to the last <c>completedAt</c>.</summary>
    public required double EndToEndPerSec { get; init; }
    public required double SubmitSeconds { get; init; }
    public required double EndToEndSeconds { get; init; }
    public required double QueueToDoneP50Ms { get; init; }
    public required double QueueToDoneP99Ms { get; init; }

    public required int Succeeded { get; init; }
    public required int FailedGenerations { get; init; }
    public required int NotTerminal { get; init; }
    /// <summary>Requests not answered 202 (transport errors count as status 0).</summary>
    public required int Non202 { get; init; }
    /// <summary>Non-202 answers plus generations that failed or never finished.</summary>
    public required int Failures { get; init; }
    public required IReadOnlyDictionary<string, int> StatusCounts { get; init; }
    public required IReadOnlyDictionary<string, int> ErrorCodes { get; init; }
    public required string? FirstError { get; init; }
    public required int FellBack { get; init; }
    public required double ImageKbMean { get; init; }
    /// <summary>Users whose balance or ledger length disagrees with their jobs (duplicate or lost effects).</summary>
    public required int LedgerMismatches { get; init; }

    public required double WorkerCpuSecondsPer1kJobs { get; init; }
    /// <summary>
    /// CPU ms per measured job of our own processes only (every api and worker process): what our
    /// code costs, without the emulator, Redis and the load generator that share the machine.
    /// </summary>
    public required double OwnCpuMsPerJob { get; init; }
    /// <summary>CPU ms per measured job of every process in the run (ours, emulator, Redis, load generator).</summary>
    public required double AllCpuMsPerJob { get; init; }
    /// <summary>CPU seconds per process over the measured window (first request to last terminal state).</summary>
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required IReadOnlyDictionary<string, double> PeakRssMb { get; init; }
    public required double WindowSeconds { get; init; }
    /// <summary>Busy CPU seconds of the whole machine in the window, all processes (other builds included).</summary>
    public required double MachineBusyCpuSeconds { get; init; }
    /// <summary>Busy CPU seconds that were none of ours: other engineers' builds and the rest of the machine.</summary>
    public required double OtherCpuSeconds { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJsonLine() => JsonSerializer.Serialize(this, JsonOptions);

    public IEnumerable<string> JsonLines() => [ToJsonLine()];

    /// <summary>True for the processes whose CPU is ours: api and worker (either stack).</summary>
    public static bool IsOwnProcess(string name) =>
        name == "api" || name.StartsWith("api-", StringComparison.Ordinal) || name.StartsWith("worker-", StringComparison.Ordinal);

    /// <summary>The summary table plus where the CPU went.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | jobs | accepted/s | API p50 ms | API p99 ms | end-to-end gen/s | own CPU ms / job (api + workers) | all CPU ms / job | worker CPU s / 1k jobs | peak RSS MB (" + string.Join(" / ", PeakRssMb.Keys) + ") | failures |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        sb.AppendLine(Inv($"| {Scenario}{(Stack == "lumiku" ? "" : $" ({Stack})")}{(WorkerNice == 0 ? "" : $", workers nice {WorkerNice}")} | {Jobs} | {AcceptedPerSec:F0} | {ApiP50Ms:F1} | {ApiP99Ms:F1} | {EndToEndPerSec:F0} | {OwnCpuMsPerJob:F3} | {AllCpuMsPerJob:F3} | {WorkerCpuSecondsPer1kJobs:F2} | {string.Join(" / ", PeakRssMb.Values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))} | {Failures} ({Non202} non-202, {FailedGenerations + NotTerminal} failed) |"));
        sb.AppendLine();
        sb.AppendLine(Inv($"CPU in the measured window ({WindowSeconds:F1} s, {Cores} cores = {WindowSeconds * Cores:F1} CPU s available; machine busy {MachineBusyCpuSeconds:F1} s):"));
        sb.AppendLine();
        sb.AppendLine("| process | CPU s | CPU ms / job | share of busy CPU |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, seconds) in CpuSeconds.Append(new("other (not ours)", OtherCpuSeconds)))
        {
            var share = MachineBusyCpuSeconds > 0 ? seconds / MachineBusyCpuSeconds * 100 : 0;
            sb.AppendLine(Inv($"| {name} | {seconds:F2} | {seconds * 1000 / Math.Max(1, Jobs):F3} | {share:F0}% |"));
        }

        return sb.ToString();
    }

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}
