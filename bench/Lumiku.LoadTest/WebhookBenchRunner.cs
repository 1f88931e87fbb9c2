using System.Diagnostics;
using System.Globalization;
using Lumiku.Generation;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario webhooks</c> (issue 15): the same load twice in one sitting, first without webhooks,
/// then with every job (warm-up included) carrying a <c>webhook</c> to a <see cref="WebhookReceiver"/>
/// in this process (default events: the terminal ones). Each pass starts its own processes; the
/// webhook pass's window runs until every measured job's delivery arrived, so its CPU includes the
/// deliveries. Reports both passes and their ratios (<see cref="WebhookBenchReport"/>).
/// </summary>
public static class WebhookBenchRunner
{
    /// <summary>How long the deliveries may trail the last terminal job before the run stops waiting.</summary>
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(120);

    public static async Task<WebhookBenchReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        log("pass 1 of 2: without webhooks");
        var plain = await RunPassAsync(options, receiver: null, log, cancellationToken).ConfigureAwait(false);
        await using var receiver = WebhookReceiver.Start();
        log($"pass 2 of 2: every job with a webhook to {receiver.Url}");
        var hooked = await RunPassAsync(options, receiver, log, cancellationToken).ConfigureAwait(false);
        return new WebhookBenchReport(plain, hooked);
    }

    private static async Task<WebhookBenchPass> RunPassAsync(BenchOptions options, WebhookReceiver? receiver, Action<string> log, CancellationToken cancellationToken)
    {
        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);

        var users = Enumerable.Range(0, options.Users).Select(u => $"bench-u{u}").ToArray();
        var tokens = users.Select(u => BenchTokens.Create(cluster.SigningKey, u, TimeSpan.FromHours(6))).ToArray();
        var extra = receiver is null ? null : $"\"webhook\":\"{receiver.Url}\"";
        using var client = new LoadClient([.. cluster.Apis.Select(a => a.BaseUri)], tokens, options.Concurrency, options.Side, extra);
        var idsByUser = users.ToDictionary(u => u, _ => new List<string>());

        if (options.Warmup > 0)
        {
            var warm = await client.SubmitAsync(options.Warmup, "warmup", cancellationToken).ConfigureAwait(false);
            Collect(warm, users, idsByUser);
            var warmIds = warm.Ids.OfType<string>().ToArray();
            await tracker.WaitAllTerminalAsync(warmIds, options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
            if (receiver is not null)
            {
                await WaitDeliveredAsync(receiver, warmIds, log, cancellationToken).ConfigureAwait(false);
                receiver.Clear();
            }

            log($"warm-up done: {warm.Accepted} accepted of {options.Warmup}");
        }

        var processes = cluster.MeasuredProcesses;
        var cpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        var window = Stopwatch.StartNew();

        var phase = await client.SubmitAsync(options.Jobs, "run", cancellationToken).ConfigureAwait(false);
        var accepted = phase.Ids.OfType<string>().ToArray();
        await tracker.WaitAllTerminalAsync(accepted, options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
        log(string.Create(CultureInfo.InvariantCulture, $"all terminal after {window.Elapsed.TotalSeconds:F2} s"));
        if (receiver is not null)
        {
            await WaitDeliveredAsync(receiver, accepted, log, cancellationToken).ConfigureAwait(false);
            log(string.Create(CultureInfo.InvariantCulture, $"all delivered after {window.Elapsed.TotalSeconds:F2} s"));
        }

        window.Stop();
        var cpuAfter = ProcStats.Snapshot(processes);
        var machineAfter = ProcStats.MachineCpuSeconds();
        var peakRss = processes.ToDictionary(p => p.Name, p => Math.Round(ProcStats.PeakRssMb(p.Pid) ?? 0, 1));

        // Outside the window: outcomes, ledgers, deliveries.
        Collect(phase, users, idsByUser);
        var outcomes = await tracker.ReadOutcomesAsync(accepted).ConfigureAwait(false);
        var mismatches = await tracker.CountLedgerMismatchesAsync(idsByUser.Where(kv => kv.Value.Count > 0).ToDictionary(), options.StarterGrant).ConfigureAwait(false);
        var deliveries = receiver is null ? null : await ReadDeliveriesAsync(receiver, tracker, accepted).ConfigureAwait(false);

        var cpu = ProcStats.Delta(processes, cpuBefore, cpuAfter);

        var ours = cpu.Values.Sum();
        var own = cpu.Where(kv => BenchResult.IsOwnProcess(kv.Key)).Sum(kv => kv.Value);
        var workerCpu = cpu.Where(kv => kv.Key.StartsWith("worker-", StringComparison.Ordinal)).Sum(kv => kv.Value);
        var machineBusy = machineAfter.Busy - machineBefore.Busy;
        var startedMs = phase.StartedAt.ToUnixTimeMilliseconds();
        var endToEndSeconds = outcomes.LastCompletedAtMs > 0 ? (outcomes.LastCompletedAtMs - startedMs) / 1000.0 : window.Elapsed.TotalSeconds;
        var jobs = Math.Max(1, options.Jobs);

        return new WebhookBenchPass
        {
            Scenario = options.Scenario,
            Pass = receiver is null ? "plain" : "webhooks",
            Commit = BenchRunner.GitCommit(cluster.RepositoryRoot),
            StartedAt = phase.StartedAt,
            Cores = Environment.ProcessorCount,
            Jobs = options.Jobs,
            Warmup = options.Warmup,
            Concurrency = options.Concurrency,
            Workers = options.Workers,
            WorkerConcurrency = options.WorkerConcurrency,
            Users = options.Users,
            Accepted = phase.Accepted,
            Non202 = phase.Rejected,
            Succeeded = outcomes.Succeeded,
            FailedGenerations = outcomes.Failed,
            NotTerminal = outcomes.NotTerminal,
            LedgerMismatches = mismatches,
            EndToEndSeconds = Math.Round(endToEndSeconds, 3),
            EndToEndPerSec = Math.Round((outcomes.Succeeded + outcomes.Failed) / Math.Max(endToEndSeconds, 1e-3), 1),
            Deliveries = deliveries,
            DeliveriesPerSec = deliveries is { LastReceivedAtMs: > 0 } d ? Math.Round(d.Received / Math.Max((d.LastReceivedAtMs - startedMs) / 1000.0, 1e-3), 1) : null,
            DeliverySeconds = deliveries is { LastReceivedAtMs: > 0 } e ? Math.Round((e.LastReceivedAtMs - startedMs) / 1000.0, 3) : null,
            WorkerCpuMsPerJob = Math.Round(workerCpu * 1000 / jobs, 3),
            OwnCpuMsPerJob = Math.Round(own * 1000 / jobs, 3),
            AllCpuMsPerJob = Math.Round(ours * 1000 / jobs, 3),
            CpuSeconds = cpu,
            PeakRssMb = peakRss,
            WindowSeconds = Math.Round(window.Elapsed.TotalSeconds, 3),
            MachineBusyCpuSeconds = Math.Round(machineBusy, 2),
            OtherCpuSeconds = Math.Round(Math.Max(0, machineBusy - ours), 2),
        };
    }

    /// <summary>Until each of <paramref name="ids"/> has had a delivery, or none arrived for a while.</summary>
    private static async Task WaitDeliveredAsync(WebhookReceiver receiver, IReadOnlyCollection<string> ids, Action<string> log, CancellationToken cancellationToken)
    {
        var pending = new HashSet<string>(ids, StringComparer.Ordinal);
        var lastProgress = Stopwatch.StartNew();
        var received = receiver.Received;
        while (pending.Count > 0 && lastProgress.Elapsed < DeliveryTimeout)
        {
            pending.RemoveWhere(receiver.HasAny);
            if (receiver.Received != received)
            {
                received = receiver.Received;
                lastProgress.Restart();
            }

            if (pending.Count > 0)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }

        if (pending.Count > 0)
        {
            log($"{pending.Count} of {ids.Count} jobs got no delivery within {DeliveryTimeout.TotalSeconds} s of the last one");
        }
    }

    /// <summary>
    /// Per measured job: exactly one delivery of its terminal event is right; none is missing, more are
    /// duplicates, another type is wrong. Lag is the job's <c>completedAt</c> to the first arrival.
    /// </summary>
    private static async Task<WebhookDeliveryFigures> ReadDeliveriesAsync(WebhookReceiver receiver, TerminalTracker tracker, IReadOnlyList<string> ids)
    {
        var rows = await tracker.ReadAsync(ids, [GenerationRecord.Fields.Status, GenerationRecord.Fields.CompletedAt]).ConfigureAwait(false);
        int received = 0, exactlyOne = 0, missing = 0, duplicates = 0, wrongType = 0;
        long last = 0;
        var lags = new List<long>(ids.Count);
        foreach (var (id, v) in rows)
        {
            var arrivals = receiver.For(id);
            received += arrivals.Count;
            var expected = "generation." + v[0];
            var terminal = arrivals.Where(a => a.Type == expected).ToList();
            wrongType += arrivals.Count - terminal.Count;
            if (terminal.Count == 0)
            {
                missing++;
                continue;
            }

            duplicates += terminal.Count - 1;
            exactlyOne += terminal.Count == 1 ? 1 : 0;
            last = Math.Max(last, arrivals.Max(a => a.ReceivedAtMs));
            if (long.TryParse(v[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var completedAt))
            {
                lags.Add(terminal[0].ReceivedAtMs - completedAt);
            }
        }

        lags.Sort();
        return new WebhookDeliveryFigures(received, exactlyOne, missing, duplicates, wrongType, last,
            BenchText.Percentile(lags, 50), BenchText.Percentile(lags, 99), lags.Count == 0 ? 0 : lags[^1]);
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
}
