using System.Diagnostics;
using System.Globalization;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using StackExchange.Redis;
using F = Lumiku.Generation.GenerationRecord.Fields;

namespace Lumiku.LoadTest;

/// <summary>
/// Knows when generations reach a terminal state without listening to every job: every terminal
/// path (settle, refund, dead letter) acknowledges the job's stream entry in the same Lua script,
/// so once every entry is in the stream, "the consumer group has no pending entry and no lag" means
/// every job has ended. It polls <c>XINFO GROUPS</c> (one command) and then reads the statuses
/// once to confirm; it reads them also when the group looks stuck (canceled or unknown entries).
/// </summary>
/// <remarks>
/// It used to subscribe to <c>lumiku:events:*</c>: three status messages per job delivered to the
/// bench, which cost the load generator and Redis CPU inside the measured window.
/// </remarks>
public sealed class TerminalTracker : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan StatusReadInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan NoGroupStatusReadInterval = TimeSpan.FromMilliseconds(250);
    private const int Batch = 1000;

    private readonly ConnectionMultiplexer _redis;

    private TerminalTracker(ConnectionMultiplexer redis) => _redis = redis;

    public IDatabase Db => _redis.GetDatabase();

    public static async Task<TerminalTracker> StartAsync(string connectionString) =>
        new(await ConnectionMultiplexer.ConnectAsync(connectionString).ConfigureAwait(false));

    /// <summary>
    /// Wait until every id is terminal or the timeout passes; returns the ids still not terminal.
    /// Call it after every id has been accepted (all entries are in the stream).
    /// </summary>
    /// <param name="deadProcess">Names a service process that has exited, if any: waiting on is then pointless.</param>
    public async Task<IReadOnlyCollection<string>> WaitAllTerminalAsync(IEnumerable<string> ids, TimeSpan timeout, Func<string?> deadProcess, Action<string> log, CancellationToken cancellationToken)
    {
        var pending = new HashSet<string>(ids, StringComparer.Ordinal);
        var started = Stopwatch.StartNew();
        var lastReport = started.Elapsed;
        var lastStatusRead = started.Elapsed;
        while (pending.Count > 0)
        {
            if (started.Elapsed > timeout)
            {
                return pending;
            }

            // A stack without the consumer group (the node-bullmq peer) is read more often instead.
            var drained = await GroupDrainedAsync().ConfigureAwait(false);
            if (drained is true || started.Elapsed - lastStatusRead > (drained is null ? NoGroupStatusReadInterval : StatusReadInterval))
            {
                lastStatusRead = started.Elapsed;
                var statuses = await ReadAsync([.. pending], [F.Status]).ConfigureAwait(false);
                foreach (var (id, values) in statuses)
                {
                    if (values[0] is { } status && GenerationStatus.IsTerminal(status))
                    {
                        pending.Remove(id);
                    }
                }

                if (pending.Count > 0 && deadProcess() is { } dead)
                {
                    throw new InvalidOperationException($"{dead} exited during the run with {pending.Count} jobs not terminal.");
                }
            }

            if (started.Elapsed - lastReport > TimeSpan.FromSeconds(5))
            {
                lastReport = started.Elapsed;
                log($"  waiting: {pending.Count} not terminal yet after {started.Elapsed.TotalSeconds:F0} s");
            }

            if (pending.Count > 0)
            {
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }

        return [];
    }

    /// <summary>
    /// True when the workers' group has read every entry and acknowledged all it read; null when
    /// there is no such stream or group.
    /// </summary>
    private async Task<bool?> GroupDrainedAsync()
    {
        if (!await Db.KeyExistsAsync(RedisKeys.Stream).ConfigureAwait(false))
        {
            return null;
        }

        var groups = await Db.StreamGroupInfoAsync(RedisKeys.Stream).ConfigureAwait(false);
        var group = groups.FirstOrDefault(g => g.Name == RedisKeys.ConsumerGroup);
        return group.Name is null ? null : group.PendingMessageCount == 0 && group.Lag == 0;
    }

    /// <summary>Read some fields of many generation hashes, pipelined in batches.</summary>
    public async Task<List<(string Id, string?[] Values)>> ReadAsync(IReadOnlyList<string> ids, string[] fields)
    {
        var db = Db;
        var names = fields.Select(f => (RedisValue)f).ToArray();
        var results = new List<(string, string?[])>(ids.Count);
        for (var offset = 0; offset < ids.Count; offset += Batch)
        {
            var chunk = ids.Skip(offset).Take(Batch).ToArray();
            var tasks = chunk.Select(id => db.HashGetAsync(RedisKeys.Generation(id), names)).ToArray();
            var values = await Task.WhenAll(tasks).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                results.Add((chunk[i], [.. values[i].Select(v => v.IsNull ? null : (string?)v)]));
            }
        }

        return results;
    }

    /// <summary>The outcome of every id, read once after the run (not timed).</summary>
    public async Task<Outcomes> ReadOutcomesAsync(IReadOnlyList<string> ids)
    {
        var rows = await ReadAsync(ids, [F.Status, F.CompletedAt, F.FellBack, F.ImageBytes, F.ErrorCode, F.CreatedAt]).ConfigureAwait(false);
        var outcomes = new Outcomes();
        foreach (var (_, v) in rows)
        {
            switch (v[0])
            {
                case GenerationStatus.Succeeded:
                    outcomes.Succeeded++;
                    outcomes.ImageBytes += long.Parse(v[3] ?? "0", CultureInfo.InvariantCulture);
                    break;
                case GenerationStatus.Failed or GenerationStatus.Canceled:
                    outcomes.Failed++;
                    var code = v[4] ?? "unknown";
                    outcomes.ErrorCodes[code] = outcomes.ErrorCodes.GetValueOrDefault(code) + 1;
                    break;
                default:
                    outcomes.NotTerminal++;
                    break;
            }

            if (v[2] == "1")
            {
                outcomes.FellBack++;
            }

            if (v[1] is { } completed && long.TryParse(completed, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
            {
                outcomes.LastCompletedAtMs = Math.Max(outcomes.LastCompletedAtMs, ms);
                if (v[5] is { } created && long.TryParse(created, NumberStyles.Integer, CultureInfo.InvariantCulture, out var createdMs))
                {
                    outcomes.QueueToDoneMs.Add(ms - createdMs);
                }
            }
        }

        outcomes.QueueToDoneMs.Sort();
        return outcomes;
    }

    /// <summary>
    /// Exactly-once effects, checked from the outside: per user, the balance is the grant minus what
    /// was charged, and the ledger holds the grant plus one reserve and one settle/refund per job.
    /// </summary>
    public async Task<int> CountLedgerMismatchesAsync(IReadOnlyDictionary<string, List<string>> idsByUser, int starterGrant)
    {
        var db = Db;
        var mismatches = 0;
        foreach (var (user, ids) in idsByUser)
        {
            var rows = await ReadAsync(ids, [F.Status, F.Charged, F.Reserved]).ConfigureAwait(false);
            long expectedBalance = starterGrant;
            long expectedLedger = starterGrant > 0 ? 1 : 0;
            foreach (var (_, v) in rows)
            {
                var terminal = v[0] is { } s && GenerationStatus.IsTerminal(s);
                expectedBalance -= terminal ? long.Parse(v[1] ?? "0", CultureInfo.InvariantCulture) : long.Parse(v[2] ?? "0", CultureInfo.InvariantCulture);
                expectedLedger += terminal ? 2 : 1;
            }

            var balance = (long?)await db.StringGetAsync(RedisKeys.Balance(user)).ConfigureAwait(false) ?? starterGrant;
            var ledger = await db.StreamLengthAsync(RedisKeys.Ledger(user)).ConfigureAwait(false);
            if (balance != expectedBalance || ledger != expectedLedger)
            {
                mismatches++;
            }
        }

        return mismatches;
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync().ConfigureAwait(false);
}

/// <summary>How the measured generations ended, read from their hashes.</summary>
public sealed class Outcomes
{
    public int Succeeded { get; set; }
    public int Failed { get; set; }
    public int NotTerminal { get; set; }
    public int FellBack { get; set; }
    public long ImageBytes { get; set; }
    public long LastCompletedAtMs { get; set; }
    public Dictionary<string, int> ErrorCodes { get; } = [];
    /// <summary>createdAt → completedAt per job, sorted (queueing plus processing).</summary>
    public List<long> QueueToDoneMs { get; } = [];
}
