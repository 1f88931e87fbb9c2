using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Generation;

/// <summary>
/// The data lifecycle: the paged ledger, deleting generations and accounts, retention, dead letters,
/// per-user counters (event streams) and what the sweeps remove.
/// </summary>
public sealed partial class GenerationStore
{
    /// <summary>
    /// A page of the user's ledger, newest first, strictly older than <paramref name="before"/> (a ledger
    /// entry id; null for the newest). Keyset paging on stream ids: entries added meanwhile never shift a page.
    /// </summary>
    public async Task<LedgerPage> GetLedgerPageAsync(string userId, StreamId? before, int take)
    {
        var max = before is { } b ? "(" + b : "+";
        var entries = await Db.StreamRangeAsync(RedisKeys.Ledger(userId), "-", max, take + 1, Order.Descending).ConfigureAwait(false);
        var items = entries.Take(take).Select(ToLedgerEntry).ToArray();
        return new LedgerPage(items, entries.Length > take ? StreamId.Parse(items[^1].EntryId) : null);
    }

    /// <summary>Delete a finished generation of <paramref name="userId"/> (see delete-generation.lua); the caller deletes the image after.</summary>
    public async Task<DeleteResult> DeleteGenerationAsync(string generationId, string userId)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.DeleteGeneration,
            [RedisKeys.Generation(generationId), RedisKeys.UserGenerations(userId), RedisKeys.Retention],
            [userId, generationId]).ConfigureAwait(false))!;
        return (string)result[0]! switch
        {
            "deleted" => new DeleteResult(DeleteOutcome.Deleted, null),
            "busy" => new DeleteResult(DeleteOutcome.Unfinished, (string)result[1]!),
            _ => new DeleteResult(DeleteOutcome.Missing, null),
        };
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> failed or canceled generations that ended before
    /// <paramref name="cutoff"/> (records and list entries; see expire-failed.lua). Returns their ids.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExpireFailedAsync(DateTimeOffset cutoff, int max = 100)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.ExpireFailed,
            [RedisKeys.Retention],
            [cutoff.ToUnixTimeMilliseconds(), max, RedisKeys.GenerationPrefix, RedisKeys.UserGenerationsPrefix]).ConfigureAwait(false))!;
        return [.. result.Select(r => (string)r!)];
    }

    /// <summary>A page of the dead-letter stream, newest first, strictly older than <paramref name="before"/>.</summary>
    public async Task<DeadLetterPage> ListDeadLettersAsync(StreamId? before, int take)
    {
        var max = before is { } b ? "(" + b : "+";
        var entries = await Db.StreamRangeAsync(RedisKeys.DeadLetterStream, "-", max, take + 1, Order.Descending).ConfigureAwait(false);
        var items = entries.Take(take).Select(e =>
        {
            string? Get(string name) => e[name] is { IsNullOrEmpty: false } v ? (string?)v : null;
            var id = StreamId.Parse(e.Id!);
            return new DeadLetter(
                e.Id!,
                Get("id"),
                Get("reason") ?? "",
                Get("entryId"),
                int.TryParse(Get("attempts"), NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : null,
                DateTimeOffset.FromUnixTimeMilliseconds((long)id.Milliseconds));
        }).ToArray();
        return new DeadLetterPage(items, entries.Length > take ? StreamId.Parse(items[^1].EntryId) : null);
    }

    /// <summary>Queue a dead-lettered job again at its model's price, once per dead-letter entry (see redrive.lua).</summary>
    public async Task<RedriveResult> RedriveAsync(StreamId deadLetterId)
    {
        var db = Db;
        var entries = await db.StreamRangeAsync(RedisKeys.DeadLetterStream, deadLetterId.ToString(), deadLetterId.ToString(), 1).ConfigureAwait(false);
        if (entries is not [var entry] || entry["id"] is not { IsNullOrEmpty: false } idValue)
        {
            return new RedriveResult(RedriveOutcome.Missing, null, null, 0);
        }

        var generationId = (string)idValue!;
        var record = await GetAsync(generationId).ConfigureAwait(false);
        if (record is null)
        {
            return new RedriveResult(RedriveOutcome.Gone, generationId, null, 0);
        }

        var price = credits.Value.PriceOf(record.Model);
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(
            LuaScripts.Redrive,
            [
                RedisKeys.DeadLetterStream,
                RedisKeys.Generation(generationId),
                RedisKeys.Balance(record.UserId),
                RedisKeys.Ledger(record.UserId),
                RedisKeys.Stream,
                RedisKeys.Retention,
                RedisKeys.WorkersIdle,
                RedisKeys.EnqueuedSeq,
            ],
            [deadLetterId.ToString(), generationId, price, Now, ChangeSpan]).ConfigureAwait(false))!;
        return (string)result[0]! switch
        {
            "queued" => new RedriveResult(RedriveOutcome.Queued, generationId, GenerationStatus.Queued, price, ParseInt(result[1])),
            "already" => new RedriveResult(RedriveOutcome.AlreadyRedriven, generationId, (string)result[1]!, 0),
            "insufficient" => new RedriveResult(RedriveOutcome.InsufficientCredits, generationId, GenerationStatus.Failed, price, ParseInt(result[1])),
            "gone" => new RedriveResult(RedriveOutcome.Gone, generationId, null, 0),
            _ => new RedriveResult(RedriveOutcome.Missing, null, null, 0),
        };
    }

    /// <summary>Caps the dead-letter stream near <paramref name="maxLength"/> entries (XTRIM MAXLEN ~); returns how many went.</summary>
    public Task<long> TrimDeadLettersAsync(int maxLength) =>
        Db.StreamTrimAsync(RedisKeys.DeadLetterStream, maxLength, useApproximateMaxLength: true);

    /// <summary>
    /// Removes consumers with no pending entries that have been idle longer than <paramref name="idle"/>
    /// (see remove-consumer.lua). Returns their names.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveGoneConsumersAsync(TimeSpan idle)
    {
        var db = Db;
        StreamConsumerInfo[] consumers;
        try
        {
            consumers = await db.StreamConsumerInfoAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("NOGROUP", StringComparison.Ordinal) || e.Message.StartsWith("ERR no such key", StringComparison.Ordinal))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var consumer in consumers.Where(c => c.PendingMessageCount == 0 && c.IdleTimeInMilliseconds > idle.TotalMilliseconds))
        {
            if ((int)await db.ScriptEvaluateAsync(LuaScripts.RemoveConsumer, [RedisKeys.Stream], [RedisKeys.ConsumerGroup, consumer.Name]).ConfigureAwait(false) == 1)
            {
                removed.Add(consumer.Name!);
            }
        }

        return removed;
    }

    /// <summary>
    /// Whether an image may be kept: its record is succeeded (committed) or still queued or processing
    /// (the image may be stored just before the record commits).
    /// </summary>
    public async Task<bool> IsImageReferencedAsync(string generationId)
    {
        var status = (string?)await Db.HashGetAsync(RedisKeys.Generation(generationId), GenerationRecord.Fields.Status).ConfigureAwait(false);
        return status is GenerationStatus.Succeeded or GenerationStatus.Queued or GenerationStatus.Processing;
    }

    /// <summary>Takes a sweep's lock for <paramref name="hold"/> (SET NX PX); false when another replica holds it.</summary>
    public Task<bool> TryLockAsync(string sweep, TimeSpan hold) =>
        Db.StringSetAsync(RedisKeys.SweepLock(sweep), Environment.MachineName + "-" + Environment.ProcessId, hold, When.NotExists);

    /// <summary>Open one more event stream for the user unless <paramref name="cap"/> are open; see event-stream-claim.lua.</summary>
    public async Task<bool> ClaimEventStreamAsync(string userId, int cap, TimeSpan safety) =>
        (int)await Db.ScriptEvaluateAsync(LuaScripts.EventStreamClaim, [RedisKeys.EventStreams(userId)], [cap, (long)safety.TotalSeconds]).ConfigureAwait(false) == 1;

    public Task ReleaseEventStreamAsync(string userId) =>
        Db.ScriptEvaluateAsync(LuaScripts.EventStreamRelease, [RedisKeys.EventStreams(userId)]);

    /// <summary>
    /// Deletes the user: every generation (record, list entry, image), their idempotency and rate-limit
    /// keys and counters; the ledger stays under a tombstone (<see cref="RedisKeys.DeletedLedger"/>),
    /// closed with a line that zeroes the balance. Refused while a job is queued or processing.
    /// </summary>
    public async Task<AccountDeletion> DeleteUserAsync(string userId, IImageStore images, CancellationToken cancellationToken = default)
    {
        var db = Db;
        var key = RedisKeys.UserGenerations(userId);
        var deleted = 0;
        var unfinished = 0;
        long offset = 0;
        while (true)
        {
            var ids = await db.SortedSetRangeByRankAsync(key, offset, offset + 99).ConfigureAwait(false);
            if (ids.Length == 0)
            {
                break;
            }

            foreach (var id in ids.Select(i => (string)i!))
            {
                var result = await DeleteGenerationAsync(id, userId).ConfigureAwait(false);
                switch (result.Outcome)
                {
                    case DeleteOutcome.Deleted:
                        // The record goes first, so no record points at a missing image; at worst one is orphaned (swept).
                        await images.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                        deleted++;
                        break;
                    case DeleteOutcome.Unfinished:
                        unfinished++;
                        offset++;
                        break;
                    default:
                        // Not the user's record (or gone): only its list entry was left.
                        await db.SortedSetRemoveAsync(key, id).ConfigureAwait(false);
                        break;
                }
            }
        }

        if (unfinished > 0)
        {
            return new AccountDeletion(false, deleted, unfinished, null, 0, 0);
        }

        var server = redis.GetServers().First(s => !s.IsReplica);
        foreach (var pattern in new[] { RedisKeys.IdempotencyPattern(userId), RedisKeys.RateLimitPattern(userId) })
        {
            await foreach (var k in server.KeysAsync(db.Database, pattern, pageSize: 500).ConfigureAwait(false))
            {
                await db.KeyDeleteAsync(k).ConfigureAwait(false);
            }
        }

        var tombstone = TombstoneOf(userId);
        var closed = (RedisResult[])(await db.ScriptEvaluateAsync(
            LuaScripts.CloseAccount,
            [RedisKeys.Balance(userId), RedisKeys.Ledger(userId), RedisKeys.DeletedLedger(tombstone), key, RedisKeys.Unfinished(userId), RedisKeys.EventStreams(userId), RedisKeys.WebhookSecret(userId)],
            [Now]).ConfigureAwait(false))!;
        if ((string)closed[0]! != "closed")
        {
            // A generation was submitted meanwhile: the account stays; the caller may try again.
            return new AccountDeletion(false, deleted, ParseInt(closed[1]), null, 0, 0);
        }

        return new AccountDeletion(true, deleted, 0, tombstone, ParseInt(closed[1]), ParseInt(closed[2]));
    }

    /// <summary>The tombstone of a user id: a SHA-256 prefix, the same for the same id, not reversible to it.</summary>
    public static string TombstoneOf(string userId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId)))[..32];
}

/// <summary>A page of ledger entries, newest first, and the id the next (older) page starts before.</summary>
public sealed record LedgerPage(IReadOnlyList<LedgerEntry> Items, StreamId? Next);

public enum DeleteOutcome
{
    Deleted,

    /// <summary>Not the user's generation, or gone.</summary>
    Missing,

    /// <summary>Queued or processing: cancel it first, or wait.</summary>
    Unfinished,
}

public sealed record DeleteResult(DeleteOutcome Outcome, string? Status);

/// <summary>One dead-letter entry: the job it was (null for a malformed entry), why, and the stream entry it came from.</summary>
public sealed record DeadLetter(string EntryId, string? GenerationId, string Reason, string? SourceEntryId, int? Attempts, DateTimeOffset At);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, StreamId? Next);

public enum RedriveOutcome
{
    Queued,

    /// <summary>Redriven before from this entry, or no longer failed: nothing changed.</summary>
    AlreadyRedriven,

    InsufficientCredits,

    /// <summary>No such dead-letter entry, or it names no job.</summary>
    Missing,

    /// <summary>The job's record is gone (expired or deleted).</summary>
    Gone,
}

/// <summary>What a redrive did: the job's status now, the price reserved (when queued) and the user's balance.</summary>
public sealed record RedriveResult(RedriveOutcome Outcome, string? GenerationId, string? Status, int Price, int Balance = 0);

/// <summary>What <c>DELETE /v1/me</c> did and kept.</summary>
/// <param name="Deleted">False while generations are unfinished (nothing but finished ones was deleted then).</param>
/// <param name="Tombstone">The hash the ledger is kept under (<c>lumiku:ledger:deleted:{tombstone}</c>).</param>
/// <param name="Forfeited">The balance closed out by the ledger's last line.</param>
public sealed record AccountDeletion(bool Deleted, int Generations, int Unfinished, string? Tombstone, int Forfeited, int LedgerEntries);
