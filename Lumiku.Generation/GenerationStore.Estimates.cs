using System.Globalization;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Generation;

/// <summary>Queue position and start estimate of a queued job, and the samples the estimate is made of.</summary>
public sealed partial class GenerationStore
{
    /// <summary>Job durations kept for the median.</summary>
    public const int DurationSamples = 20;

    /// <summary>
    /// Where a queued job stands: jobs ahead of it (its <c>queueSeq</c> less the highest sequence a worker
    /// has started, less one) and when it may start (position × the median of the last
    /// <see cref="DurationSamples"/> job durations ÷ live worker slots). Null unless queued; the start is
    /// null before any job finished or while no worker is alive. Three reads in one round trip, none
    /// growing with the queue.
    /// </summary>
    public async Task<QueueEstimate?> GetQueueEstimateAsync(GenerationRecord record) =>
        record.Status == GenerationStatus.Queued && record.QueueSeq is not null ? Estimate(record, await GetQueueSnapshotAsync().ConfigureAwait(false)) : null;

    /// <summary>
    /// The queue-wide inputs of an estimate (the highest started sequence, the median duration, live
    /// slots), so many queued jobs' estimates can share one read (the api's event streams do).
    /// </summary>
    public async Task<QueueSnapshot> GetQueueSnapshotAsync()
    {
        var batch = Db.CreateBatch();
        var started = batch.StringGetAsync(RedisKeys.StartedSeq);
        var durations = batch.ListRangeAsync(RedisKeys.JobDurations, 0, DurationSamples - 1);
        var slots = batch.HashGetAllAsync(RedisKeys.WorkerSlots);
        batch.Execute();
        await Task.WhenAll(started, durations, slots).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var samples = (await durations).Select(v => (long)v).Order().ToArray();
        double? median = samples.Length == 0 ? null
            : samples.Length % 2 == 1 ? samples[samples.Length / 2] : (samples[(samples.Length / 2) - 1] + samples[samples.Length / 2]) / 2.0;
        return new QueueSnapshot((long?)await started ?? 0, median, LiveSlots(await slots, now.ToUnixTimeMilliseconds()), now);
    }

    /// <summary>Where <paramref name="record"/> stands given <paramref name="snapshot"/>; null unless queued.</summary>
    public static QueueEstimate? Estimate(GenerationRecord record, QueueSnapshot snapshot)
    {
        if (record.Status != GenerationStatus.Queued || record.QueueSeq is not { } seq)
        {
            return null;
        }

        var position = (int)Math.Max(0, seq - snapshot.StartedSeq - 1);
        DateTimeOffset? startAt = snapshot.MedianDurationMs is { } median && snapshot.LiveSlots > 0
            ? snapshot.At + TimeSpan.FromMilliseconds(position * median / snapshot.LiveSlots)
            : null;
        return new QueueEstimate(position, startAt);
    }

    /// <summary>Adds a finished job's duration to the rolling sample (the newest <see cref="DurationSamples"/> are kept).</summary>
    public async Task RecordJobDurationAsync(TimeSpan duration)
    {
        var tx = Db.CreateTransaction();
        _ = tx.ListLeftPushAsync(RedisKeys.JobDurations, (long)duration.TotalMilliseconds);
        _ = tx.ListTrimAsync(RedisKeys.JobDurations, 0, DurationSamples - 1);
        await tx.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>Announces <paramref name="consumer"/>'s job slots until <paramref name="expiresAt"/>, and drops workers whose announcement expired.</summary>
    public async Task AnnounceSlotsAsync(string consumer, int slots, DateTimeOffset expiresAt)
    {
        var db = Db;
        await db.HashSetAsync(RedisKeys.WorkerSlots, consumer, $"{slots}|{expiresAt.ToUnixTimeMilliseconds()}").ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var expired = (await db.HashGetAllAsync(RedisKeys.WorkerSlots).ConfigureAwait(false))
            .Where(e => ParseSlots(e.Value) is not { } s || s.ExpiresAtMs < now)
            .Select(e => e.Name)
            .ToArray();
        if (expired.Length > 0)
        {
            await db.HashDeleteAsync(RedisKeys.WorkerSlots, expired).ConfigureAwait(false);
        }
    }

    /// <summary>Withdraws <paramref name="consumer"/>'s slots (a worker stopping).</summary>
    public Task WithdrawSlotsAsync(string consumer) => Db.HashDeleteAsync(RedisKeys.WorkerSlots, consumer);

    private static int LiveSlots(HashEntry[] entries, long nowMs) =>
        entries.Sum(e => ParseSlots(e.Value) is { } s && s.ExpiresAtMs >= nowMs ? s.Slots : 0);

    private static (int Slots, long ExpiresAtMs)? ParseSlots(RedisValue value) =>
        ((string?)value)?.Split('|') is [var slots, var expires]
        && int.TryParse(slots, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
        && long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var e)
            ? (s, e)
            : null;
}

/// <summary>The queue-wide inputs of <see cref="QueueEstimate"/>s, read at <paramref name="At"/>; the median is null before any job finished.</summary>
public sealed record QueueSnapshot(long StartedSeq, double? MedianDurationMs, int LiveSlots, DateTimeOffset At);

/// <summary>A queued job's place: jobs ahead of it, and an estimate of when it starts (null when there is no basis yet).</summary>
public sealed record QueueEstimate(int Position, DateTimeOffset? EstimatedStartAt);
