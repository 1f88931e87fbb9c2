using StackExchange.Redis;

namespace Lumiku.Generation.Redis;

/// <summary>Trimming a stream read by one consumer group (the job stream, the webhook outbox).</summary>
internal static class StreamTrimming
{
    /// <summary>
    /// Trims entries older than both the group's oldest pending entry and its last delivered one:
    /// undelivered and unacknowledged work is never dropped. Returns the number of entries removed.
    /// </summary>
    public static async Task<long> TrimAcknowledgedAsync(IDatabase db, RedisKey stream, string groupName)
    {
        if (!await db.KeyExistsAsync(stream).ConfigureAwait(false))
        {
            return 0;
        }

        var groups = await db.StreamGroupInfoAsync(stream).ConfigureAwait(false);
        var group = groups.FirstOrDefault(g => g.Name == groupName);
        if (group.Name is null || group.LastDeliveredId is null)
        {
            return 0;
        }

        var safe = StreamId.Parse(group.LastDeliveredId);
        var pending = await db.StreamPendingAsync(stream, groupName).ConfigureAwait(false);
        if (pending.PendingMessageCount > 0 && StreamId.Parse(pending.LowestPendingMessageId!) is var lowest && lowest < safe)
        {
            safe = lowest;
        }

        return safe == default ? 0 : await db.StreamTrimByMinIdAsync(stream, safe.ToString()).ConfigureAwait(false);
    }
}
