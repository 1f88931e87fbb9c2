using System.Diagnostics;
using System.Globalization;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using StackExchange.Redis;
using F = Lumiku.Generation.GenerationRecord.Fields;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario queue-depth</c> (issue 17 item 2): for each depth D of <see cref="BenchOptions.Sizes"/>,
/// a fresh cluster whose workers are held (SIGSTOP) while <see cref="BulkLoader"/> queues D jobs through
/// the submit script; then, at that depth, <see cref="BenchOptions.Jobs"/> <c>POST /v1/generations</c>
/// over HTTP (accepted/s, latency, api CPU per request), Redis memory per queued job, and after the
/// workers are let go, the drain rate and dispatch latency over a fixed sample of the queue's head.
/// </summary>
public static class QueueDepthRunner
{
    /// <summary>Users the loaded jobs are spread over.</summary>
    public const int LoaderUsers = 1000;

    /// <summary>Submits in flight from the loader (one multiplexer, pipelined).</summary>
    public const int LoaderInFlight = 256;

    /// <summary>The AOF fsync policy of the load phase only (see <see cref="RunDepthAsync"/>).</summary>
    public const string LoaderAppendFsync = "everysec";

    /// <summary>Jobs at the head of the queue whose drain is timed: the same number at every depth.</summary>
    public const int DrainSample = 4000;

    /// <summary>Loaded users whose balance and ledger are checked against their jobs.</summary>
    private const int LedgerUsersChecked = 50;

    /// <summary>Loaded records read back to prove they are queued generations.</summary>
    private const int QueuedChecked = 2000;

    public static async Task<QueueDepthReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        var sizes = options.Sizes.Count > 0 ? options.Sizes : [1000, 100_000, 1_000_000];
        var points = new List<QueueDepthPoint>();
        foreach (var depth in sizes)
        {
            points.Add(await RunDepthAsync(options, depth, log, cancellationToken).ConfigureAwait(false));
        }

        return new QueueDepthReport(points);
    }

    private static async Task<QueueDepthPoint> RunDepthAsync(BenchOptions options, int depth, Action<string> log, CancellationToken cancellationToken)
    {
        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.RedisConnectionString + ",allowAdmin=true").ConfigureAwait(false);
        var db = redis.GetDatabase();
        var commit = BenchRunner.GitCommit(cluster.RepositoryRoot);

        var users = Enumerable.Range(0, options.Users).Select(u => $"bench-u{u}").ToArray();
        var tokens = users.Select(u => BenchTokens.Create(cluster.SigningKey, u, TimeSpan.FromHours(6))).ToArray();
        using var client = new LoadClient([.. cluster.Apis.Select(a => a.BaseUri)], tokens, options.Concurrency, options.Side);
        var idsByUser = users.ToDictionary(u => u, _ => new List<string>());

        // Warm the api (and the workers) up with the workers running, as BenchRunner does.
        if (options.Warmup > 0)
        {
            var warm = await client.SubmitAsync(options.Warmup, "warmup", cancellationToken).ConfigureAwait(false);
            Collect(warm.Ids, users, idsByUser);
            await tracker.WaitAllTerminalAsync(warm.Ids.OfType<string>(), options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
        }

        var processes = cluster.MeasuredProcesses;
        var startedAt = DateTimeOffset.UtcNow;
        var cpuStart = ProcStats.Snapshot(processes);
        var machineStart = ProcStats.MachineCpuSeconds();
        var window = Stopwatch.StartNew();

        cluster.SignalWorkers("STOP");
        var memoryBefore = await UsedMemoryAsync(db).ConfigureAwait(false);

        // a. The bulk load, through the submit script.
        var loaderUsers = Math.Min(LoaderUsers, depth);
        log($"depth {depth}: loading through the submit script ({loaderUsers} users, {LoaderInFlight} in flight)");
        var loader = new BulkLoader(redis, options.StarterGrant, options.Side);
        // The AOF's fsync on every write caps the load at what one fsync per Redis event-loop pass allows
        // (about 1,700 jobs/s on this machine): the load phase alone runs with the policy below, and the
        // measured phases with the run's own (always, as the AppHost runs Redis).
        var loaderFsync = options.RedisPersistence == "aof" ? LoaderAppendFsync : null;
        if (loaderFsync is not null)
        {
            await db.ExecuteAsync("CONFIG", "SET", "appendfsync", loaderFsync).ConfigureAwait(false);
        }

        var load = await loader.LoadAsync(depth, loaderUsers, "bench-load-u", LoaderInFlight, int.MaxValue, cancellationToken).ConfigureAwait(false);
        if (loaderFsync is not null)
        {
            await db.ExecuteAsync("CONFIG", "SET", "appendfsync", options.RedisAppendFsync).ConfigureAwait(false);
        }

        var cpuLoaded = ProcStats.Snapshot(processes);
        log(Inv($"  loaded {load.Accepted} in {load.Seconds:F1} s ({load.JobsPerSecond:F0}/s), {load.Refused.Values.Sum()} refused"));

        // c. Redis memory per queued job, and what it is made of.
        var memoryAfter = await UsedMemoryAsync(db).ConfigureAwait(false);
        var loaded = load.Ids.OfType<string>().ToArray();
        var memory = await MeasureMemoryAsync(db, loaded, "bench-load-u0").ConfigureAwait(false);
        var notQueued = (await tracker.ReadAsync(Spread(loaded, QueuedChecked), [F.Status, F.QueueSeq, "entryId"]).ConfigureAwait(false))
            .Count(r => r.Values[0] != GenerationStatus.Queued || r.Values[1] is null || r.Values[2] is null);
        var streamLength = await db.StreamLengthAsync(RedisKeys.Stream).ConfigureAwait(false);

        // b. The api at this depth, over HTTP.
        log($"  {options.Jobs} POST /v1/generations at depth {depth}");
        await db.ExecuteAsync("CONFIG", "RESETSTAT").ConfigureAwait(false);
        var cpuBeforeHttp = ProcStats.Snapshot(processes);
        var phase = await client.SubmitAsync(options.Jobs, "depth", cancellationToken).ConfigureAwait(false);
        var cpuAfterHttp = ProcStats.Snapshot(processes);
        var httpCommands = await CommandStatsAsync(db).ConfigureAwait(false);
        Collect(phase.Ids, users, idsByUser);
        var httpIds = phase.Ids.OfType<string>().ToArray();
        var httpRecordBytes = httpIds.Length > 0 ? await MemoryUsageAsync(db, RedisKeys.Generation(httpIds[0])).ConfigureAwait(false) : 0;
        log(Inv($"  {phase.Accepted} accepted at {phase.AcceptedPerSec:F0}/s, p99 {phase.PercentileMs(99):F1} ms"));

        // d. Let the workers go; time the head of the queue (the same number of jobs at every depth).
        var sample = loaded.Concat(httpIds).Take(DrainSample).ToArray();
        var releasedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await db.ExecuteAsync("CONFIG", "RESETSTAT").ConfigureAwait(false);
        var cpuBeforeDrain = ProcStats.Snapshot(processes);
        cluster.SignalWorkers("CONT");
        var notDrained = await tracker.WaitAllTerminalAsync(sample, options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);
        var cpuAfterDrain = ProcStats.Snapshot(processes);
        var drainCommands = await CommandStatsAsync(db).ConfigureAwait(false);
        cluster.SignalWorkers("STOP");
        window.Stop();
        var machineEnd = ProcStats.MachineCpuSeconds();
        var peakRss = processes.ToDictionary(p => p.Name, p => Math.Round(ProcStats.PeakRssMb(p.Pid) ?? 0, 1));

        var drain = await ReadDrainAsync(tracker, sample, releasedAtMs).ConfigureAwait(false);
        log(Inv($"  drained {drain.Terminal} of {sample.Length} at {drain.JobsPerSecond:F0}/s, dispatch p50 {drain.DispatchP50Ms:F0} ms"));

        // Outside every window, with the workers held again so nothing moves: balances and ledgers.
        var checkedUsers = idsByUser.Where(kv => kv.Value.Count > 0).ToDictionary();
        for (var i = 0; i < load.Ids.Length; i++)
        {
            var user = i % loaderUsers;
            if (user < LedgerUsersChecked && load.Ids[i] is { } id)
            {
                var name = "bench-load-u" + user.ToString(CultureInfo.InvariantCulture);
                if (!checkedUsers.TryGetValue(name, out var list))
                {
                    checkedUsers[name] = list = [];
                }

                list.Add(id);
            }
        }

        var mismatches = await tracker.CountLedgerMismatchesAsync(checkedUsers, options.StarterGrant).ConfigureAwait(false);
        cluster.SignalWorkers("CONT");

        var cpu = ProcStats.Delta(processes, cpuStart, cpuAfterDrain);
        var ours = cpu.Values.Sum();
        var machineBusy = machineEnd.Busy - machineStart.Busy;
        var loadCpu = ProcStats.Delta(processes, cpuStart, cpuLoaded);
        var httpCpu = ProcStats.Delta(processes, cpuBeforeHttp, cpuAfterHttp);
        var drainCpu = ProcStats.Delta(processes, cpuBeforeDrain, cpuAfterDrain);
        double PerJob(Dictionary<string, double> phaseCpu, Func<string, bool> which, int jobs) =>
            Math.Round(phaseCpu.Where(kv => which(kv.Key)).Sum(kv => kv.Value) * 1000 / Math.Max(1, jobs), 3);

        return new QueueDepthPoint
        {
            Scenario = options.Scenario,
            StartedAt = startedAt,
            Commit = commit,
            Cores = Environment.ProcessorCount,
            RedisPersistence = options.RedisPersistence,
            RedisAppendFsync = options.RedisPersistence == "aof" ? options.RedisAppendFsync : null,
            Depth = depth,
            LoaderUsers = loaderUsers,
            LoaderInFlight = LoaderInFlight,
            LoaderAppendFsync = loaderFsync,
            Loaded = load.Accepted,
            LoadRefused = load.Refused.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            LoaderJobsPerSec = Math.Round(load.JobsPerSecond),
            LoadSeconds = Math.Round(load.Seconds, 2),
            RedisCpuMsPerLoadedJob = PerJob(loadCpu, n => n == "redis", load.Accepted),
            LoadedNotQueued = notQueued,
            StreamLength = streamLength,
            UsedMemoryBefore = memoryBefore,
            UsedMemoryAfter = memoryAfter,
            BytesPerQueuedJob = Math.Round((memoryAfter - memoryBefore) / (double)Math.Max(1, load.Accepted)),
            Memory = memory,
            HttpRecordBytes = httpRecordBytes,
            Jobs = options.Jobs,
            Concurrency = options.Concurrency,
            Users = options.Users,
            Accepted = phase.Accepted,
            Non202 = phase.Rejected,
            FirstError = phase.FirstError,
            AcceptedPerSec = Math.Round(phase.AcceptedPerSec),
            ApiP50Ms = Math.Round(phase.PercentileMs(50), 2),
            ApiP99Ms = Math.Round(phase.PercentileMs(99), 2),
            ApiCpuMsPerRequest = PerJob(httpCpu, n => n == "api" || n.StartsWith("api-", StringComparison.Ordinal), options.Jobs),
            RedisCpuMsPerRequest = PerJob(httpCpu, n => n == "redis", options.Jobs),
            RedisCommandsHttp = httpCommands,
            DrainSample = sample.Length,
            Drained = drain.Terminal,
            DrainSucceeded = drain.Succeeded,
            DrainNotTerminal = notDrained.Count,
            DrainJobsPerSec = Math.Round(drain.JobsPerSecond),
            FirstStartMs = drain.FirstStartMs,
            DispatchP50Ms = drain.DispatchP50Ms,
            DispatchP99Ms = drain.DispatchP99Ms,
            StartGapP99Ms = drain.StartGapP99Ms,
            WorkerCpuMsPerDrainedJob = PerJob(drainCpu, n => n.StartsWith("worker-", StringComparison.Ordinal), drain.Terminal),
            RedisCpuMsPerDrainedJob = PerJob(drainCpu, n => n == "redis", drain.Terminal),
            RedisCommandsDrain = drainCommands,
            LedgerUsersChecked = checkedUsers.Count,
            LedgerMismatches = mismatches,
            CpuSeconds = cpu,
            PeakRssMb = peakRss,
            WindowSeconds = Math.Round(window.Elapsed.TotalSeconds, 2),
            MachineBusyCpuSeconds = Math.Round(machineBusy, 2),
            OtherCpuSeconds = Math.Round(Math.Max(0, machineBusy - ours), 2),
        };
    }

    /// <summary>
    /// Drain figures of the sample: jobs per second from the release to the last completion; dispatch
    /// latency = startedAt − max(createdAt, release) (the wait of a queued job once workers run);
    /// the first start after the release; the p99 gap between consecutive starts (stalls).
    /// </summary>
    private static async Task<DrainFigures> ReadDrainAsync(TerminalTracker tracker, string[] sample, long releasedAtMs)
    {
        var rows = await tracker.ReadAsync(sample, [F.Status, F.CreatedAt, F.StartedAt, F.CompletedAt]).ConfigureAwait(false);
        var dispatch = new List<long>(rows.Count);
        var starts = new List<long>(rows.Count);
        long lastCompleted = 0;
        int terminal = 0, succeeded = 0;
        foreach (var (_, v) in rows)
        {
            if (v[0] is { } status && GenerationStatus.IsTerminal(status))
            {
                terminal++;
                succeeded += status == GenerationStatus.Succeeded ? 1 : 0;
            }

            if (Long(v[3]) is { } completed)
            {
                lastCompleted = Math.Max(lastCompleted, completed);
            }

            if (Long(v[2]) is { } started && Long(v[1]) is { } created)
            {
                dispatch.Add(started - Math.Max(created, releasedAtMs));
                starts.Add(started);
            }
        }

        dispatch.Sort();
        starts.Sort();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).Order().ToList();
        return new DrainFigures(
            terminal,
            succeeded,
            Math.Round(terminal / Math.Max((lastCompleted - releasedAtMs) / 1000.0, 1e-3), 1),
            starts.Count > 0 ? starts[0] - releasedAtMs : 0,
            BenchText.Percentile(dispatch, 50),
            BenchText.Percentile(dispatch, 99),
            BenchText.Percentile(gaps, 99));
    }

    /// <summary><c>MEMORY USAGE</c> of the parts of a queued job: a record, the stream per entry, a user's index and ledger per entry.</summary>
    private static async Task<QueueMemory> MeasureMemoryAsync(IDatabase db, string[] loaded, string user)
    {
        var records = Spread(loaded, 20);
        long recordBytes = 0;
        foreach (var id in records)
        {
            recordBytes += await MemoryUsageAsync(db, RedisKeys.Generation(id)).ConfigureAwait(false);
        }

        var first = RedisKeys.Generation(records.FirstOrDefault() ?? "none");
        var index = RedisKeys.UserGenerations(user);
        var ledger = RedisKeys.Ledger(user);
        var streamLength = await db.StreamLengthAsync(RedisKeys.Stream).ConfigureAwait(false);
        var indexLength = await db.SortedSetLengthAsync(index).ConfigureAwait(false);
        var ledgerLength = await db.StreamLengthAsync(ledger).ConfigureAwait(false);
        return new QueueMemory
        {
            RecordBytes = records.Count > 0 ? recordBytes / records.Count : 0,
            RecordEncoding = await EncodingAsync(db, first).ConfigureAwait(false),
            RecordFields = await db.HashLengthAsync(first).ConfigureAwait(false),
            RecordLongestValue = (await db.HashValuesAsync(first).ConfigureAwait(false)).Select(v => v.Length()).DefaultIfEmpty(0).Max(),
            StreamBytesPerEntry = Math.Round(await MemoryUsageAsync(db, RedisKeys.Stream).ConfigureAwait(false) / (double)Math.Max(1, streamLength), 1),
            UserIndexBytesPerEntry = Math.Round(await MemoryUsageAsync(db, index).ConfigureAwait(false) / (double)Math.Max(1, indexLength), 1),
            UserIndexEncoding = await EncodingAsync(db, index).ConfigureAwait(false),
            LedgerBytesPerEntry = Math.Round(await MemoryUsageAsync(db, ledger).ConfigureAwait(false) / (double)Math.Max(1, ledgerLength), 1),
            Keys = (long)await db.ExecuteAsync("DBSIZE").ConfigureAwait(false),
        };
    }

    /// <summary>
    /// The Redis commands that took the most time since the last <c>CONFIG RESETSTAT</c>
    /// (<c>INFO commandstats</c>): calls and µs per call, so a command that grows with the queue shows.
    /// </summary>
    private static async Task<Dictionary<string, RedisCommandStat>> CommandStatsAsync(IDatabase db)
    {
        var info = (string)(await db.ExecuteAsync("INFO", "commandstats").ConfigureAwait(false))!;
        var stats = new List<(string Name, long Usec, RedisCommandStat Stat)>();
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var fields = line[(colon + 1)..].Split(',').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            var usec = long.Parse(fields["usec"], CultureInfo.InvariantCulture);
            stats.Add((line["cmdstat_".Length..colon], usec, new RedisCommandStat(
                long.Parse(fields["calls"], CultureInfo.InvariantCulture),
                double.Parse(fields["usec_per_call"], CultureInfo.InvariantCulture))));
        }

        return stats.OrderByDescending(s => s.Usec).Take(8).ToDictionary(s => s.Name, s => s.Stat);
    }

    private static async Task<long> MemoryUsageAsync(IDatabase db, RedisKey key)
    {
        var result = await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0").ConfigureAwait(false);
        return result.IsNull ? 0 : (long)result;
    }

    private static async Task<string> EncodingAsync(IDatabase db, RedisKey key)
    {
        var result = await db.ExecuteAsync("OBJECT", "ENCODING", key).ConfigureAwait(false);
        return result.IsNull ? "" : (string)result!;
    }

    private static async Task<long> UsedMemoryAsync(IDatabase db)
    {
        var info = (string)(await db.ExecuteAsync("INFO", "memory").ConfigureAwait(false))!;
        var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Up to <paramref name="count"/> ids spread evenly over <paramref name="ids"/>.</summary>
    private static List<string> Spread(string[] ids, int count)
    {
        var step = Math.Max(1, ids.Length / Math.Max(1, count));
        var picked = new List<string>(count);
        for (var i = 0; i < ids.Length && picked.Count < count; i += step)
        {
            picked.Add(ids[i]);
        }

        return picked;
    }

    /// <summary>LoadClient gives job i of a phase the token of users[i mod users].</summary>
    internal static void Collect(string?[] ids, string[] users, Dictionary<string, List<string>> idsByUser)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] is { } id)
            {
                idsByUser[users[i % users.Length]].Add(id);
            }
        }
    }

    private static long? Long(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string Inv(FormattableString s) => BenchText.Inv(s);

    private sealed record DrainFigures(int Terminal, int Succeeded, double JobsPerSecond, long FirstStartMs, double DispatchP50Ms, double DispatchP99Ms, double StartGapP99Ms);
}
