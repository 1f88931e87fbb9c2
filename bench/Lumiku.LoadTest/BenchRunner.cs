using System.Diagnostics;
using System.Globalization;

namespace Lumiku.LoadTest;

/// <summary>
/// One benchmark run: start the processes, warm up (not reported), submit the measured jobs, wait
/// until every one is terminal, and turn /proc and Redis into a <see cref="BenchResult"/>.
/// </summary>
public static class BenchRunner
{
    public static async Task<BenchResult> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);

        var users = Enumerable.Range(0, options.Users).Select(u => $"bench-u{u}").ToArray();
        var tokens = users.Select(u => BenchTokens.Create(cluster.SigningKey, u, TimeSpan.FromHours(6))).ToArray();
        using var client = new LoadClient([.. cluster.Apis.Select(a => a.BaseUri)], tokens, options.Concurrency, options.Side);
        var idsByUser = users.ToDictionary(u => u, _ => new List<string>());

        if (options.Warmup > 0)
        {
            log($"warm-up: {options.Warmup} jobs at concurrency {options.Concurrency}");
            var warm = await client.SubmitAsync(options.Warmup, "warmup", cancellationToken).ConfigureAwait(false);
            Collect(warm, users, idsByUser);
            var stuck = await tracker.WaitAllTerminalAsync(warm.Ids.OfType<string>(), options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
            log($"warm-up done: {warm.Accepted} accepted, {warm.Rejected} rejected{(warm.FirstError is null ? "" : $" (first: {warm.FirstError})")}, {stuck.Count} not terminal");
        }

        var processes = cluster.MeasuredProcesses;
        var cpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        var window = Stopwatch.StartNew();

        log($"measuring: {options.Jobs} jobs at concurrency {options.Concurrency}, {options.Workers} worker(s) x {options.WorkerConcurrency} in flight");
        if (options.HoldWorkers)
        {
            cluster.SignalWorkers("STOP");
        }

        var phase = await client.SubmitAsync(options.Jobs, "run", cancellationToken).ConfigureAwait(false);
        if (options.HoldWorkers)
        {
            cluster.SignalWorkers("CONT");
        }

        log(Inv($"submitted in {phase.SubmitSeconds:F2} s: {phase.Accepted} accepted, {phase.Rejected} rejected{(phase.FirstError is null ? "" : $" (first: {phase.FirstError})")}"));
        var accepted = phase.Ids.OfType<string>().ToArray();
        var notTerminal = await tracker.WaitAllTerminalAsync(accepted, options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);

        window.Stop();
        var cpuAfter = ProcStats.Snapshot(processes);
        var machineAfter = ProcStats.MachineCpuSeconds();
        var peakRss = processes.ToDictionary(p => p.Name, p => Math.Round(ProcStats.PeakRssMb(p.Pid) ?? 0, 1));
        log(Inv($"all terminal after {window.Elapsed.TotalSeconds:F2} s ({notTerminal.Count} not terminal)"));

        // Outside the window: read every outcome and check the ledgers.
        Collect(phase, users, idsByUser);
        var outcomes = await tracker.ReadOutcomesAsync(accepted).ConfigureAwait(false);
        var mismatches = await tracker.CountLedgerMismatchesAsync(idsByUser.Where(kv => kv.Value.Count > 0).ToDictionary(), options.StarterGrant).ConfigureAwait(false);

        var cpu = ProcStats.Delta(processes, cpuBefore, cpuAfter);

        var ours = cpu.Values.Sum();
        var own = cpu.Where(kv => BenchResult.IsOwnProcess(kv.Key)).Sum(kv => kv.Value);
        var machineBusy = machineAfter.Busy - machineBefore.Busy;
        var workerCpu = cpu.Where(kv => kv.Key.StartsWith("worker-", StringComparison.Ordinal)).Sum(kv => kv.Value);
        var endToEndSeconds = outcomes.LastCompletedAtMs > 0
            ? (outcomes.LastCompletedAtMs - phase.StartedAt.ToUnixTimeMilliseconds()) / 1000.0
            : window.Elapsed.TotalSeconds;
        var terminal = outcomes.Succeeded + outcomes.Failed;

        return new BenchResult
        {
            Scenario = options.Scenario,
            Stack = options.Stack,
            StartedAt = phase.StartedAt,
            Commit = GitCommit(cluster.RepositoryRoot),
            Cores = Environment.ProcessorCount,
            Jobs = options.Jobs,
            Warmup = options.Warmup,
            Concurrency = options.Concurrency,
            Workers = options.Workers,
            ApiReplicas = options.ApiReplicas,
            Storage = options.Storage,
            HoldWorkers = options.HoldWorkers,
            WorkerNice = options.WorkerNice,
            WorkerConcurrency = options.WorkerConcurrency,
            EmulatorLatencyMs = options.EmulatorLatencyMs,
            ImageKb = options.ImageKb,
            Tier = options.Tier,
            PaintMode = options.PaintMode,
            Side = options.Side,
            Users = options.Users,
            RedisPersistence = options.RedisPersistence,
            RedisAppendFsync = options.RedisPersistence == "aof" ? options.RedisAppendFsync : null,
            ImagesDirectory = cluster.ImagesDirectory,
            Accepted = phase.Accepted,
            AcceptedPerSec = Round(phase.AcceptedPerSec),
            ApiP50Ms = Round(phase.PercentileMs(50), 2),
            ApiP99Ms = Round(phase.PercentileMs(99), 2),
            ApiMaxMs = Round(phase.PercentileMs(100), 2),
            EndToEndPerSec = Round(terminal / Math.Max(endToEndSeconds, 1e-3)),
            SubmitSeconds = Round(phase.SubmitSeconds, 3),
            EndToEndSeconds = Round(endToEndSeconds, 3),
            QueueToDoneP50Ms = BenchText.Percentile(outcomes.QueueToDoneMs, 50),
            QueueToDoneP99Ms = BenchText.Percentile(outcomes.QueueToDoneMs, 99),
            Succeeded = outcomes.Succeeded,
            FailedGenerations = outcomes.Failed,
            NotTerminal = outcomes.NotTerminal,
            Non202 = phase.Rejected,
            Failures = phase.Rejected + outcomes.Failed + outcomes.NotTerminal,
            StatusCounts = phase.StatusCounts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            ErrorCodes = outcomes.ErrorCodes,
            FirstError = phase.FirstError,
            FellBack = outcomes.FellBack,
            ImageKbMean = Round(outcomes.Succeeded > 0 ? outcomes.ImageBytes / 1024.0 / outcomes.Succeeded : 0, 1),
            LedgerMismatches = mismatches,
            WorkerCpuSecondsPer1kJobs = Round(workerCpu / Math.Max(1, options.Jobs) * 1000, 3),
            OwnCpuMsPerJob = Round(own * 1000 / Math.Max(1, options.Jobs), 3),
            AllCpuMsPerJob = Round(ours * 1000 / Math.Max(1, options.Jobs), 3),
            CpuSeconds = cpu,
            PeakRssMb = peakRss,
            WindowSeconds = Round(window.Elapsed.TotalSeconds, 3),
            MachineBusyCpuSeconds = Round(machineBusy, 2),
            OtherCpuSeconds = Round(Math.Max(0, machineBusy - ours), 2),
        };
    }

    private static void Collect(SubmitPhase phase, string[] users, Dictionary<string, List<string>> idsByUser)
    {
        for (var i = 0; i < phase.Ids.Length; i++)
        {
            if (phase.Ids[i] is { } id)
            {
                // LoadClient picks the token of job i as tokens[i % users].
                idsByUser[users[i % users.Length]].Add(id);
            }
        }
    }

    private static double Round(double value, int digits = 1) => Math.Round(value, digits);

    private static string Inv(FormattableString s) => BenchText.Inv(s);

    internal static string GitCommit(string repository)
    {
        try
        {
            var info = new ProcessStartInfo("git", "rev-parse --short HEAD") { WorkingDirectory = repository, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var git = Process.Start(info)!;
            var commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
