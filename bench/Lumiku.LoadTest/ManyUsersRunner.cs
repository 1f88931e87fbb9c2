using System.Diagnostics;
using System.Globalization;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario many-users</c> (issue 17 item 6): the same number of <c>POST /v1/generations</c>, workers
/// held, first from 64 users and then from <see cref="BenchOptions.Users"/> distinct users (each a token
/// of its own), each on a fresh cluster: accepted/s, api CPU per request and api RSS (peak and at the
/// end) side by side, so per-user state in the api shows as RSS that grows with users. Then the head
/// of the queue is drained and a sample of users' ledgers is checked.
/// </summary>
public static class ManyUsersRunner
{
    /// <summary>The users of the comparison run (BenchOptions' default).</summary>
    public const int BaselineUsers = 64;

    /// <summary>Jobs drained after the submits, and users whose ledger is checked.</summary>
    public const int Sample = 2000;

    public static async Task<ManyUsersReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        List<ManyUsersPoint> points = [];
        foreach (var users in new[] { BaselineUsers, options.Users }.Distinct())
        {
            points.Add(await RunOnceAsync(options, users, log, cancellationToken).ConfigureAwait(false));
        }

        return new ManyUsersReport(points);
    }

    private static async Task<ManyUsersPoint> RunOnceAsync(BenchOptions options, int userCount, Action<string> log, CancellationToken cancellationToken)
    {
        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);

        var minting = Stopwatch.StartNew();
        var users = Enumerable.Range(0, userCount).Select(u => $"bench-u{u}").ToArray();
        var tokens = users.Select(u => BenchTokens.Create(cluster.SigningKey, u, TimeSpan.FromHours(6))).ToArray();
        log(Inv($"{userCount} users: {tokens.Length} tokens minted in {minting.Elapsed.TotalSeconds:F1} s"));
        using var client = new LoadClient([.. cluster.Apis.Select(a => a.BaseUri)], tokens, options.Concurrency, options.Side);
        var idsByUser = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        if (options.Warmup > 0)
        {
            // Warm-up as user ids of their own, so every measured request is its user's first.
            using var warmClient = new LoadClient([.. cluster.Apis.Select(a => a.BaseUri)], [BenchTokens.Create(cluster.SigningKey, "bench-warm", TimeSpan.FromHours(1))], options.Concurrency, options.Side);
            var warm = await warmClient.SubmitAsync(options.Warmup, "warmup", cancellationToken).ConfigureAwait(false);
            await tracker.WaitAllTerminalAsync(warm.Ids.OfType<string>(), options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
        }

        var api = cluster.Api;
        var processes = cluster.MeasuredProcesses;
        var rssBefore = ProcStats.RssMb(api.Pid) ?? 0;
        var cpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        cluster.SignalWorkers("STOP");

        log($"{options.Jobs} POST /v1/generations from {userCount} users, workers held");
        var phase = await client.SubmitAsync(options.Jobs, "users", cancellationToken).ConfigureAwait(false);
        var cpuAfter = ProcStats.Snapshot(processes);
        var machineAfter = ProcStats.MachineCpuSeconds();
        var rssEnd = ProcStats.RssMb(api.Pid) ?? 0;
        var peakRss = processes.ToDictionary(p => p.Name, p => Math.Round(ProcStats.PeakRssMb(p.Pid) ?? 0, 1));
        log(Inv($"  {phase.Accepted} accepted at {phase.AcceptedPerSec:F0}/s, api RSS {rssBefore:F0} -> {rssEnd:F0} MB"));

        // The api 15 s later, idle: what it still holds once per-user state may have expired.
        await Task.Delay(TimeSpan.FromSeconds(options.Smoke ? 0 : 15), cancellationToken).ConfigureAwait(false);
        var rssIdle = ProcStats.RssMb(api.Pid) ?? 0;

        // Outside the window: let the workers take the head of the queue, hold them again, check ledgers.
        foreach (var (id, i) in phase.Ids.Select((id, i) => (id, i)))
        {
            if (id is not null)
            {
                var user = users[i % users.Length];
                if (!idsByUser.TryGetValue(user, out var list))
                {
                    idsByUser[user] = list = [];
                }

                list.Add(id);
            }
        }

        var sample = phase.Ids.OfType<string>().Take(Sample).ToArray();
        cluster.SignalWorkers("CONT");
        var notDrained = await tracker.WaitAllTerminalAsync(sample, options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
        cluster.SignalWorkers("STOP");
        var outcomes = await tracker.ReadOutcomesAsync(sample).ConfigureAwait(false);
        var checkedUsers = idsByUser.Take(Sample).ToDictionary();
        var mismatches = await tracker.CountLedgerMismatchesAsync(checkedUsers, options.StarterGrant).ConfigureAwait(false);
        cluster.SignalWorkers("CONT");

        var cpu = ProcStats.Delta(processes, cpuBefore, cpuAfter);
        var machineBusy = machineAfter.Busy - machineBefore.Busy;
        var apiCpu = cpu.Where(kv => kv.Key == "api" || kv.Key.StartsWith("api-", StringComparison.Ordinal)).Sum(kv => kv.Value);
        return new ManyUsersPoint
        {
            Scenario = options.Scenario,
            StartedAt = phase.StartedAt,
            Commit = BenchRunner.GitCommit(cluster.RepositoryRoot),
            Cores = Environment.ProcessorCount,
            RedisAppendFsync = options.RedisPersistence == "aof" ? options.RedisAppendFsync : null,
            Users = userCount,
            Jobs = options.Jobs,
            Concurrency = options.Concurrency,
            Accepted = phase.Accepted,
            Non202 = phase.Rejected,
            FirstError = phase.FirstError,
            AcceptedPerSec = Math.Round(phase.AcceptedPerSec),
            ApiP50Ms = Math.Round(phase.PercentileMs(50), 2),
            ApiP99Ms = Math.Round(phase.PercentileMs(99), 2),
            ApiCpuMsPerRequest = Math.Round(apiCpu * 1000 / Math.Max(1, options.Jobs), 3),
            ApiRssBeforeMb = Math.Round(rssBefore, 1),
            ApiRssEndMb = Math.Round(rssEnd, 1),
            ApiRssIdleMb = Math.Round(rssIdle, 1),
            ApiPeakRssMb = peakRss.GetValueOrDefault("api"),
            DrainSample = sample.Length,
            Succeeded = outcomes.Succeeded,
            NotTerminal = notDrained.Count,
            LedgerUsersChecked = checkedUsers.Count,
            LedgerMismatches = mismatches,
            CpuSeconds = cpu,
            PeakRssMb = peakRss,
            WindowSeconds = Math.Round(phase.SubmitSeconds, 2),
            MachineBusyCpuSeconds = Math.Round(machineBusy, 2),
            OtherCpuSeconds = Math.Round(Math.Max(0, machineBusy - cpu.Values.Sum()), 2),
        };
    }

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}
