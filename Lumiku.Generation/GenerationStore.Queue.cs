using System.Globalization;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Generation;

/// <summary>The worker's queue operations beyond start and finish: keeping claims, requeueing, delayed jobs.</summary>
public sealed partial class GenerationStore
{
    /// <summary>
    /// Resets the idle time of the entries <paramref name="consumer"/> still holds (see
    /// <see cref="LuaScripts.RefreshClaims"/>), so they are not taken over while being worked on.
    /// Returns how many were refreshed.
    /// </summary>
    public async Task<int> RefreshClaimsAsync(string consumer, IReadOnlyCollection<string> entryIds)
    {
        if (entryIds.Count == 0)
        {
            return 0;
        }

        var args = new RedisValue[entryIds.Count + 2];
        args[0] = RedisKeys.ConsumerGroup;
        args[1] = consumer;
        var i = 2;
        foreach (var id in entryIds)
        {
            args[i++] = id;
        }

        return (int)await Db.ScriptEvaluateAsync(LuaScripts.RefreshClaims, [RedisKeys.Stream], args).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts a job <paramref name="consumer"/> is processing back to <c>queued</c> without counting the
    /// delivery: on the stream again at once when <paramref name="dueAt"/> is not in the future, else in
    /// the delayed set until then (see <see cref="LuaScripts.Requeue"/>).
    /// </summary>
    public async Task<RequeueOutcome> RequeueAsync(
        GenerationRecord generation, RedisValue entryId, string consumer, DateTimeOffset dueAt, string reason, string? traceParent, string? traceState)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Requeue,
            [RedisKeys.Generation(generation.Id), RedisKeys.Stream, RedisKeys.DelayedJobs, RedisKeys.WorkersIdle, RedisKeys.EnqueuedSeq],
            [
                entryId,
                RedisKeys.ConsumerGroup,
                Now,
                consumer,
                dueAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                generation.UserId,
                traceParent ?? "",
                traceState ?? "",
                reason,
                ChangeSpan,
            ]).ConfigureAwait(false))!;
        return (string)result[0]! switch
        {
            "queued" => RequeueOutcome.Queued,
            "finished" => RequeueOutcome.AlreadyFinished,
            _ => RequeueOutcome.NotOurs,
        };
    }

    /// <summary>
    /// Aborts and refunds up to <paramref name="max"/> jobs still queued past their Cancel-After
    /// deadline (see <see cref="LuaScripts.AbortDue"/>); returns how many.
    /// </summary>
    public async Task<int> AbortDueAsync(int max = 100) =>
        (int)await Db.ScriptEvaluateAsync(
            LuaScripts.AbortDue,
            [RedisKeys.Deadlines],
            [Now, max, RedisKeys.GenerationPrefix, RedisKeys.BalancePrefix, RedisKeys.LedgerPrefix, ChangeSpan]).ConfigureAwait(false);

    /// <summary>Re-adds up to <paramref name="max"/> delayed jobs that are due to the stream; returns how many.</summary>
    public async Task<int> PromoteDueAsync(int max = 100) =>
        (int)await Db.ScriptEvaluateAsync(
            LuaScripts.PromoteDue,
            [RedisKeys.DelayedJobs, RedisKeys.Stream, RedisKeys.WorkersIdle, RedisKeys.EnqueuedSeq],
            [Now, max, RedisKeys.GenerationPrefix]).ConfigureAwait(false);
}

/// <summary>What a requeue did.</summary>
public enum RequeueOutcome
{
    /// <summary>Back to queued: on the stream, or in the delayed set until due.</summary>
    Queued,

    /// <summary>The job was already terminal (or gone); its entry is acked.</summary>
    AlreadyFinished,

    /// <summary>Another consumer holds the job now; nothing changed.</summary>
    NotOurs,
}
