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

    public const string GenerationPrefix = "lumiku:gen:";

    public static RedisKey Generation(string id) => GenerationPrefix + id;
    public static RedisKey Balance(string userId) => "lumiku:credits:" + userId;
    public static RedisKey Ledger(string userId) => "lumiku:ledger:" + userId;
    public static RedisKey UserGenerations(string userId) => UserGenerationsPrefix + userId;
    public static RedisKey Idempotency(string userId, string key) => "lumiku:idem:" + userId + ":" + key;

    /// <summary>The user's unfinished jobs (queued + processing), counted by the scripts (prelude.lua); gone at zero.</summary>
    public static RedisKey Unfinished(string userId) => "lumiku:unfinished:" + userId;

    /// <summary>The user's open event streams (SSE), with a TTL as a safety net (event-stream-claim.lua).</summary>
    public static RedisKey EventStreams(string userId) => "lumiku:sse:" + userId;

    /// <summary>The partition of a Redis rate limit for a user (the limiter library wraps it in its own key).</summary>
    public static string RateLimitPartition(string policy, string userId) => "lumiku:rl:" + policy + ":" + userId;

    /// <summary>The SCAN pattern of every key the user's own idempotency keys live under.</summary>
    public static string IdempotencyPattern(string userId) => "lumiku:idem:" + userId + ":*";

    /// <summary>
    /// The SCAN pattern of the rate-limit keys of <paramref name="userId"/>: the limiter library names them
    /// <c>rl:{kind}:{partition}</c> and more beside it, with the partition from <see cref="RateLimitPartition"/>.
    /// </summary>
    public static string RateLimitPattern(string userId) => "rl:*lumiku:rl:*:" + userId + "*";

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

    /// <summary>Fields of a stream entry.</summary>
    public static class StreamFields
    {
        public const string Id = "id";
        public const string User = "user";
        public const string TraceParent = "traceparent";
        public const string TraceState = "tracestate";
    }
}
