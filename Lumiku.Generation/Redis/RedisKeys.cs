using System.Buffers;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Lumiku.Generation.Redis;

/// <summary>Every Redis key, stream and channel name Lumiku uses, in one place.</summary>
public static class RedisKeys
{
    /// <summary>The connection name the AppHost gives the Redis resource.</summary>
    public const string ConnectionName = "redis";

    public const string Stream = "lumiku:generations";

    /// <summary>The stream's name in span names (<c>publish lumiku.generations</c>), as the design fixes them.</summary>
    public const string StreamSpanName = "lumiku.generations";
    public const string DeadLetterStream = "lumiku:generations:dead";
    public const string ConsumerGroup = "avatar-workers";

    /// <summary>
    /// Pub/sub channel that wakes idle workers at once. The submit script publishes on it only when
    /// <see cref="WorkersIdle"/> is set, so busy workers are not sent one message per job.
    /// </summary>
    public static readonly RedisChannel NudgeChannel = RedisChannel.Literal("lumiku:generations:nudge");

    /// <summary>
    /// Set by a worker before the read that precedes its sleep; the submit script deletes it and
    /// publishes a nudge. Set-then-read means no job queued after the flag can be missed.
    /// </summary>
    public static readonly RedisKey WorkersIdle = "lumiku:generations:idle";

    /// <summary>
    /// Jobs waiting to be tried again later (a sorted set: generation id by due time in Unix ms); the
    /// worker's mover re-adds due ones to the stream.
    /// </summary>
    public static readonly RedisKey DelayedJobs = "lumiku:generations:delayed";

    /// <summary>
    /// Pub/sub channel on which a user's cancel of a processing job names the generation; the worker
    /// running it cancels the job's provider call (the state change is already done in the script).
    /// </summary>
    public static readonly RedisChannel CancelChannel = RedisChannel.Literal("lumiku:generations:cancel");

    /// <summary>
    /// Jobs submitted with a Cancel-After deadline (a sorted set: generation id by deadline in Unix ms);
    /// the worker's <c>DeadlineSweeper</c> aborts those still queued when it passes.
    /// </summary>
    public static readonly RedisKey Deadlines = "lumiku:generations:deadlines";

    /// <summary>
    /// The queue's two counters: the sequence number of the last job put on the stream (each job's
    /// <c>queueSeq</c>) and the highest sequence a worker has started; a queued job's position is the
    /// difference (O(1), an estimate: see docs/architecture.md).
    /// </summary>
    public static readonly RedisKey EnqueuedSeq = "lumiku:generations:enqueued";
    public static readonly RedisKey StartedSeq = "lumiku:generations:started";

    /// <summary>The last few job durations in ms (a list, newest first) the queue's ETA takes its median from.</summary>
    public static readonly RedisKey JobDurations = "lumiku:generations:durations";

    /// <summary>Live workers' job slots: a hash of consumer name to "slots|expiresAtMs", refreshed by each worker.</summary>
    public static readonly RedisKey WorkerSlots = "lumiku:generations:slots";

    public const string BalancePrefix = "lumiku:credits:";
    public const string LedgerPrefix = "lumiku:ledger:";

    public const string GenerationPrefix = "lumiku:gen:";

    public static RedisKey Generation(string id) => GenerationPrefix + id;
    public static RedisKey Balance(string userId) => BalancePrefix + KeyPart(userId);
    public static RedisKey Ledger(string userId) => LedgerPrefix + KeyPart(userId);
    public static RedisKey UserGenerations(string userId) => UserGenerationsPrefix + KeyPart(userId);

    /// <summary>A submit's idempotency key, per user, 24 h.</summary>
    public static RedisKey Idempotency(string userId, string key) => "lumiku:idem:" + KeyPart(userId) + ":" + key;

    /// <summary>An admin grant's idempotency key, per admin, 24 h.</summary>
    public static RedisKey GrantIdempotency(string adminId, string key) => "lumiku:grant-idem:" + KeyPart(adminId) + ":" + key;

    /// <summary>
    /// A user id as it goes into a key name. Ids made only of letters, digits and <c>_ . @ -</c>
    /// (every id the dev token and the admin grant accept) go in as they are, so existing keys stay
    /// where they are; any other byte becomes <c>%XX</c> (so <c>%</c> itself is escaped). The result is
    /// one-to-one and never contains <c>:</c>, so a key made of an id and a suffix cannot be read two
    /// ways: user <c>a:b</c> with key <c>c</c> and user <c>a</c> with key <c>b:c</c> stay apart.
    /// </summary>
    public static string KeyPart(string id)
    {
        if (id.AsSpan().IndexOfAnyExcept(SafeKeyCharacters) < 0)
        {
            return id;
        }

        var escaped = new StringBuilder(id.Length * 3);
        foreach (var b in Encoding.UTF8.GetBytes(id))
        {
            if (b < 128 && SafeKeyCharacters.Contains((char)b))
            {
                escaped.Append((char)b);
            }
            else
            {
                escaped.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }

    private static readonly SearchValues<char> SafeKeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-");

    /// <summary>The user's unfinished jobs (queued + processing), counted by the scripts (prelude.lua); gone at zero.</summary>
    public static RedisKey Unfinished(string userId) => "lumiku:unfinished:" + KeyPart(userId);

    /// <summary>The user's open event streams (SSE), with a TTL as a safety net (event-stream-claim.lua).</summary>
    public static RedisKey EventStreams(string userId) => "lumiku:sse:" + KeyPart(userId);

    /// <summary>The partition of a Redis rate limit for a user (the limiter library wraps it in its own key).</summary>
    public static string RateLimitPartition(string policy, string userId) => "lumiku:rl:" + policy + ":" + KeyPart(userId);

    /// <summary>The SCAN pattern of every key the user's own idempotency keys live under.</summary>
    public static string IdempotencyPattern(string userId) => "lumiku:idem:" + KeyPart(userId) + ":*";

    /// <summary>
    /// The SCAN pattern of the rate-limit keys of <paramref name="userId"/>: the limiter library names them
    /// <c>rl:{kind}:{partition}</c> and more beside it, with the partition from <see cref="RateLimitPartition"/>.
    /// </summary>
    public static string RateLimitPattern(string userId) => "rl:*lumiku:rl:*:" + KeyPart(userId) + "*";

    /// <summary>
    /// Failed and canceled generations by the time they ended (Unix ms), deleted after
    /// <c>Retention:FailedDays</c> (prelude.lua's ended() adds them; expire-failed.lua deletes them).
    /// </summary>
    public static readonly RedisKey Retention = "lumiku:retention";

    /// <summary>A deleted user's ledger, kept for accounting under a hash of the user id.</summary>
    public static RedisKey DeletedLedger(string userHash) => "lumiku:ledger:deleted:" + userHash;

    /// <summary>A sweep's lock (SET NX PX): one replica runs a round, the others skip it.</summary>
    public static RedisKey SweepLock(string sweep) => "lumiku:lock:" + sweep;

    public const string UserGenerationsPrefix = "lumiku:user-gens:";

    /// <summary>Channel that carries a generation's status changes (for SSE).</summary>
    public static RedisChannel Events(string id) => RedisChannel.Literal("lumiku:events:" + id);
    public const string EventsPrefix = "lumiku:events:";

    /// <summary>
    /// The webhook outbox: one entry per event to deliver (<c>gen</c>, <c>event</c> JSON), appended by
    /// the prelude's <c>webhook</c> helper in the script that makes the change (the literal lives there).
    /// </summary>
    public const string WebhookOutbox = "lumiku:webhooks";

    /// <summary>The worker's consumer group on <see cref="WebhookOutbox"/>.</summary>
    public const string WebhookSenders = "webhook-senders";

    /// <summary>Webhook events waiting for their next attempt (a sorted set: event JSON by due time in Unix ms).</summary>
    public static readonly RedisKey WebhookDelayed = "lumiku:webhooks:delayed";

    /// <summary>
    /// A generation's webhook deliveries (a hash): each event's state by its sequence number, <c>done</c>
    /// (the last settled), <c>parked:n</c> (an event waiting for its predecessor), <c>disabled</c> (after a 410).
    /// </summary>
    public static RedisKey WebhookDeliveries(string generationId) => "lumiku:webhooks:gen:" + generationId;

    /// <summary>A user's webhook signing secret (a hash: current, previous, previousUntil).</summary>
    public static RedisKey WebhookSecret(string userId) => "lumiku:webhook-secret:" + KeyPart(userId);

    /// <summary>Fields of a stream entry.</summary>
    public static class StreamFields
    {
        public const string Id = "id";
        public const string User = "user";
        public const string TraceParent = "traceparent";
        public const string TraceState = "tracestate";
    }
}
