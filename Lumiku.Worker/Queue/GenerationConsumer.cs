using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// The read loop: reads new entries through the consumer group (after this consumer's own pending ones
/// from before a restart), takes over abandoned ones (<see cref="AbandonedEntryTakeover"/>), and runs up
/// to <see cref="WorkerOptions.Concurrency"/> jobs at once through the <see cref="JobRunner"/>. It reads
/// nothing while the <see cref="IntakeGate"/> is closed. StackExchange.Redis cannot block on XREADGROUP,
/// so an idle loop polls with a growing delay and wakes at once on the api's pub/sub nudge (sent only
/// while a worker has flagged itself idle, see <see cref="RedisKeys.WorkersIdle"/>). Redis away at start
/// is waited for, with the health check unhealthy meanwhile.
/// </summary>
public sealed partial class GenerationConsumer(
    IConnectionMultiplexer redis,
    JobRunner jobs,
    AbandonedEntryTakeover takeover,
    InFlightEntries inFlight,
    IntakeGate intake,
    ConsumerHeartbeat heartbeat,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<GenerationConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(2);

    /// <summary>Longest wait between tries to reach Redis at start: cheap tries, and a quick start once it is back.</summary>
    private static readonly TimeSpan MaxConnectDelay = TimeSpan.FromSeconds(5);

    private readonly WorkerOptions _options = options.Value;
    private readonly string _consumer = inFlight.Consumer;
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private readonly HashSet<Task> _inFlight = [];
    private readonly CancellationTokenSource _jobs = new();
    private RedisValue _ownPendingCursor = StreamPosition.Beginning;
    private bool _ownPendingDrained;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var db = redis.GetDatabase();
        var subscriber = redis.GetSubscriber();
        try
        {
            await ConnectAsync(db, subscriber, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        LogStarted(_consumer, _options.Concurrency);

        var slots = new SemaphoreSlim(_options.Concurrency, _options.Concurrency);
        var pollInterval = MinPollInterval;
        var idle = false;

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                heartbeat.Beat();
                if (intake.ClosedFor() is { } pause)
                {
                    await Task.Delay(pause, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (!await slots.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false))
                {
                    continue;
                }

                var free = 1;
                while (free < _options.Concurrency && slots.Wait(0))
                {
                    free++;
                }

                StreamEntry[] entries;
                try
                {
                    if (idle)
                    {
                        // Ask for a nudge before the read that precedes a sleep: a job queued after
                        // this SET finds the flag and publishes, one queued before it is read now.
                        await db.StringSetAsync(RedisKeys.WorkersIdle, _consumer).ConfigureAwait(false);
                    }

                    entries = await ReadAsync(db, free).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    slots.Release(free);
                    LogReadFailed(e);
                    await Task.Delay(_options.MaxPollInterval, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (entries.Length < free)
                {
                    slots.Release(free - entries.Length);
                }

                foreach (var entry in entries)
                {
                    var entryId = entry.Id.ToString();
                    if (!inFlight.TryAdd(entryId))
                    {
                        slots.Release();
                        continue;
                    }

                    var task = Task.Run(() => jobs.RunAsync(entry, _jobs.Token), CancellationToken.None);
                    lock (_inFlight)
                    {
                        _inFlight.Add(task);
                    }

                    _ = task.ContinueWith(
                        t =>
                        {
                            lock (_inFlight)
                            {
                                _inFlight.Remove(t);
                            }

                            inFlight.Remove(entryId);
                            slots.Release();
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                }

                if (entries.Length > 0)
                {
                    idle = false;
                    pollInterval = MinPollInterval;
                    continue;
                }

                if (!idle)
                {
                    // The first empty read: set the idle flag and read once more before sleeping.
                    idle = true;
                    continue;
                }

                await _nudge.WaitAsync(pollInterval, stoppingToken).ConfigureAwait(false);
                pollInterval = TimeSpan.FromTicks(Math.Min(pollInterval.Ticks * 2, _options.MaxPollInterval.Ticks));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await subscriber.UnsubscribeAsync(RedisKeys.NudgeChannel).ConfigureAwait(false);
        }

        Task[] remaining;
        lock (_inFlight)
        {
            remaining = [.. _inFlight];
        }

        LogStopping(remaining.Length);
        // The host cancels StopAsync's token when its shutdown timeout runs out; until then, in-flight jobs finish.
        await Task.WhenAll(remaining).ConfigureAwait(false);
    }

    /// <summary>
    /// Stopping ends reading at once; in-flight jobs run on their own token and get the host's
    /// shutdown timeout to finish, then are cut off and left pending for another consumer.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(_jobs.Cancel);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _jobs.Dispose();
        _nudge.Dispose();
        base.Dispose();
    }

    private async Task<StreamEntry[]> ReadAsync(IDatabase db, int count)
    {
        if (!_ownPendingDrained)
        {
            // Entries this consumer name was given before a restart come first, read once each: the
            // cursor moves past every batch, and no new entry is read until they are all taken, so
            // the pending list never hands back a job that is in flight here (which re-ran it and
            // counted a delivery each time, dead-lettering live jobs).
            var own = await db.StreamReadGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, _consumer, _ownPendingCursor, count).ConfigureAwait(false);
            if (own.Length == count)
            {
                _ownPendingCursor = own[^1].Id;
                return own;
            }

            _ownPendingDrained = true;
            if (own.Length > 0)
            {
                return own;
            }
        }

        var fresh = await db.StreamReadGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, _consumer, StreamPosition.NewMessages, count).ConfigureAwait(false);
        return fresh.Length > 0 ? fresh : await takeover.TakeOverAsync(count).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates the consumer group and subscribes to the nudge, retrying with backoff while Redis is
    /// unreachable or still loading its data (the health check reports unhealthy meanwhile), so a
    /// worker started before Redis waits for it instead of exiting.
    /// </summary>
    private async Task ConnectAsync(IDatabase db, ISubscriber subscriber, CancellationToken stoppingToken)
    {
        var delay = _options.RetryDelay > TimeSpan.Zero ? _options.RetryDelay : TimeSpan.FromSeconds(1);
        for (var tries = 1; ; tries++)
        {
            try
            {
                await EnsureGroupAsync(db).ConfigureAwait(false);
                await subscriber.SubscribeAsync(RedisKeys.NudgeChannel, (_, _) => Nudge()).ConfigureAwait(false);
                heartbeat.Connected();
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                heartbeat.WaitingForRedis(e.Message);
                LogWaitingForRedis(tries, delay.TotalSeconds, e.Message);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxConnectDelay.Ticks));
            }
        }
    }

    private async Task EnsureGroupAsync(IDatabase db)
    {
        try
        {
            // "$"-less start at 0 so entries queued before the first worker ever ran are consumed.
            await db.StreamCreateConsumerGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    private void Nudge()
    {
        if (_nudge.CurrentCount == 0)
        {
            try
            {
                _nudge.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} started with {Concurrency} jobs in flight at most")]
    private partial void LogStarted(string consumer, int concurrency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer stopping; waiting for {InFlight} in-flight jobs")]
    private partial void LogStopping(int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the stream failed; retrying")]
    private partial void LogReadFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for Redis (try {Try}, next in {RetryInSeconds} s): {Reason}")]
    private partial void LogWaitingForRedis(int @try, double retryInSeconds, string reason);
}
