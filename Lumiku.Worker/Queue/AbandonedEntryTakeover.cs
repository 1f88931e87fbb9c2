using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Takes over entries a crashed consumer left pending: idle longer than
/// <see cref="WorkerOptions.VisibilityTimeout"/> (a live worker keeps its own entries fresh through the
/// <see cref="ClaimRefresher"/>), looked for every <see cref="WorkerOptions.ClaimInterval"/> at most, when
/// there is nothing new to read. The Start script counts each takeover as a delivery.
/// </summary>
public sealed partial class AbandonedEntryTakeover(
    IConnectionMultiplexer redis, InFlightEntries inFlight, IOptions<WorkerOptions> options, TimeProvider time, ILogger<AbandonedEntryTakeover> logger)
{
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    /// <summary>Up to <paramref name="count"/> abandoned entries, now claimed by this consumer; none before the next interval.</summary>
    public async Task<StreamEntry[]> TakeOverAsync(int count)
    {
        if (time.GetUtcNow() < _next)
        {
            return [];
        }

        _next = time.GetUtcNow() + options.Value.ClaimInterval;
        var db = redis.GetDatabase();
        var claimed = await db.StreamAutoClaimAsync(
            RedisKeys.Stream, RedisKeys.ConsumerGroup, inFlight.Consumer, (long)options.Value.VisibilityTimeout.TotalMilliseconds, "0-0", count).ConfigureAwait(false);
        if (claimed.ClaimedEntries.Length > 0)
        {
            LogClaimed(claimed.ClaimedEntries.Length);
        }

        // XAUTOCLAIM also reports ids whose entries were trimmed away; ack them so they leave the PEL.
        if (claimed.DeletedIds.Length > 0)
        {
            await db.StreamAcknowledgeAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, claimed.DeletedIds).ConfigureAwait(false);
        }

        return claimed.ClaimedEntries;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over {Count} entries abandoned by other consumers")]
    private partial void LogClaimed(int count);
}
