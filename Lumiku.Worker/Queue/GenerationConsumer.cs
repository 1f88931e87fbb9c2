using System.Diagnostics;
using Lumiku.Generation;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Consumes the generation stream through the consumer group: reads new entries, takes over
/// entries abandoned by crashed consumers, and runs up to <see cref="WorkerOptions.Concurrency"/>
/// jobs at once. StackExchange.Redis cannot block on XREADGROUP, so an idle loop polls with a
/// growing delay and wakes at once on the api's pub/sub nudge (sent only while a worker has
/// flagged itself idle, see <see cref="RedisKeys.WorkersIdle"/>).
/// </summary>
public sealed partial class GenerationConsumer(
    IConnectionMultiplexer redis,
    GenerationStore store,
    IImageStore images,
    IFluxClient flux,
    ConsumerHeartbeat heartbeat,
    WorkerTelemetry telemetry,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<GenerationConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(2);

    private readonly WorkerOptions _options = options.Value;
    private readonly string _consumer = options.Value.ResolveConsumerName();
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private readonly HashSet<Task> _inFlight = [];

    // Entry ids this process is working on: XAUTOCLAIM also returns our own entries once they are
    // idle past the visibility timeout (a slow job), and those must not be started a second time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _inFlightEntries = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _jobs = new();
    private DateTimeOffset _nextClaim = DateTimeOffset.MinValue;
    private long _pausedUntilTicks;
    private RedisValue _ownPendingCursor = StreamPosition.Beginning;
    private bool _ownPendingDrained;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var db = redis.GetDatabase();
        await EnsureGroupAsync(db).ConfigureAwait(false);
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(RedisKeys.NudgeChannel, (_, _) => Nudge()).ConfigureAwait(false);
        LogStarted(_consumer, _options.Concurrency);

        var slots = new SemaphoreSlim(_options.Concurrency, _options.Concurrency);
        var pollInterval = MinPollInterval;
        var idle = false;

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                heartbeat.Beat();
                if (PausedFor() is { } pause)
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
                    if (!_inFlightEntries.TryAdd(entryId, 0))
                    {
                        slots.Release();
                        continue;
                    }

                    var task = Task.Run(() => ProcessWithRetriesAsync(entry, _jobs.Token), CancellationToken.None);
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

                            _inFlightEntries.TryRemove(entryId, out _);
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
        if (fresh.Length > 0 || time.GetUtcNow() < _nextClaim)
        {
            return fresh;
        }

        _nextClaim = time.GetUtcNow() + _options.ClaimInterval;
        var claimed = await db.StreamAutoClaimAsync(
            RedisKeys.Stream, RedisKeys.ConsumerGroup, _consumer, (long)_options.VisibilityTimeout.TotalMilliseconds, "0-0", count).ConfigureAwait(false);
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

    /// <summary>
    /// Runs the job; after an unexpected error it tries again in place, waiting
    /// <see cref="WorkerOptions.RetryDelay"/> doubled per try (30 s at most). Each try goes through the
    /// start script, which counts a delivery and dead-letters (refunding) past the limit, so this
    /// ends within <see cref="WorkerOptions.MaxDeliveries"/> + 1 tries that reach Redis. If Redis stays
    /// unreachable for all of them, the entry is left pending for the visibility timeout, as before.
    /// </summary>
    private async Task ProcessWithRetriesAsync(StreamEntry entry, CancellationToken cancellationToken)
    {
        var delay = _options.RetryDelay;
        for (var tries = 1; await ProcessAsync(entry, cancellationToken).ConfigureAwait(false) == JobEnd.UnexpectedError; tries++)
        {
            if (tries > _options.MaxDeliveries)
            {
                LogLeftPending(entry.Id.ToString(), tries);
                return;
            }

            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return; // shutdown: the entry stays pending for another consumer
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private enum JobEnd
    {
        Done,
        UnexpectedError,
    }

    private async Task<JobEnd> ProcessAsync(StreamEntry entry, CancellationToken cancellationToken)
    {
        var generationId = (string?)entry[RedisKeys.StreamFields.Id];
        var userId = (string?)entry[RedisKeys.StreamFields.User];
        if (string.IsNullOrEmpty(generationId) || string.IsNullOrEmpty(userId) || !generationId.All(char.IsAsciiLetterOrDigit))
        {
            LogMalformed(entry.Id.ToString());
            await store.DeadLetterMalformedAsync(entry.Id, "malformed_entry").ConfigureAwait(false);
            telemetry.DeadLetters.Add(1);
            return JobEnd.Done;
        }

        using var activity = StartConsumerActivity(entry, generationId);
        // Every log event of this job (the Flux client's too) carries the generation id.
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["GenerationId"] = generationId });
        var started = time.GetTimestamp();
        telemetry.JobsInFlight.Add(1);
        try
        {
            var start = await store.StartAsync(generationId, userId, entry.Id, _consumer, _options.MaxDeliveries).ConfigureAwait(false);
            switch (start.Verdict)
            {
                case StartVerdict.AlreadyFinished:
                    LogSkipped(generationId);
                    return JobEnd.Done;
                case StartVerdict.Missing:
                    LogMissing(generationId);
                    telemetry.DeadLetters.Add(1);
                    return JobEnd.Done;
                case StartVerdict.DeadLettered:
                    LogDeadLettered(generationId, _options.MaxDeliveries);
                    telemetry.DeadLetters.Add(1);
                    telemetry.Refunds.Add(1);
                    telemetry.GenerationsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", "dead_lettered"));
                    return JobEnd.Done;
            }

            var generation = start.Generation!;
            activity?.SetTag("gen_ai.operation.name", "generate_content");
            activity?.SetTag("gen_ai.provider.name", "huggingface");
            activity?.SetTag("gen_ai.request.model", generation.Model);
            activity?.SetTag("gen_ai.output.type", "image");
            activity?.SetTag("lumiku.generation.attempt", generation.Attempts);
            LogProcessing(generationId, generation.Model, generation.Width, generation.Height, generation.Attempts);

            FluxImage image;
            try
            {
                image = await flux.GenerateAsync(
                    new FluxRequest(generation.Prompt, generation.NegativePrompt, generation.Width, generation.Height, generation.Seed, generation.Model),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (FluxException e) when (FluxErrorCodes.NotAttempted(e.Code))
            {
                // The provider was not asked (the breaker is open): no reason to fail the user's job.
                // Leave the entry pending; it is taken over after the visibility timeout, and the
                // delivery limit still bounds it. Meanwhile this worker stops reading for a while.
                PauseReading(_options.ProviderBackoff);
                LogDeferred(generationId, e.Code, _options.ProviderBackoff.TotalSeconds);
                activity?.SetStatus(ActivityStatusCode.Error, e.Code);
                return JobEnd.Done;
            }
            catch (FluxException e)
            {
                // A classified, final provider failure: fail the generation and refund once.
                var result = await store.FailAsync(generation, entry.Id, e.Code, e.Message).ConfigureAwait(false);
                LogFailed(generationId, e.Code, e.StatusCode, e.Message);
                activity?.SetStatus(ActivityStatusCode.Error, e.Code);
                if (result.Changed)
                {
                    telemetry.Refunds.Add(1);
                    telemetry.GenerationsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", "failed"), new KeyValuePair<string, object?>("model", generation.Model));
                    telemetry.GenerationDuration.Record(
                        time.GetElapsedTime(started).TotalSeconds,
                        new KeyValuePair<string, object?>("model", generation.Model),
                        new KeyValuePair<string, object?>("outcome", "failed"));
                }

                return JobEnd.Done;
            }

            // Image first, then the state change: a crash in between leaves an orphan file, never
            // a succeeded record without its image. The image's pooled buffer goes back once stored.
            int imageBytes;
            using (image)
            {
                imageBytes = image.Bytes.Length;
                await images.SaveAsync(generationId, image.Bytes, image.ContentType, cancellationToken).ConfigureAwait(false);
            }

            activity?.SetTag("gen_ai.response.model", image.ModelUsed);
            activity?.SetTag("lumiku.generation.fell_back", image.FellBack);
            var completed = await store.CompleteAsync(generation, entry.Id, image.ModelUsed, image.FellBack, image.PrimaryError, image.ContentType, imageBytes).ConfigureAwait(false);
            if (completed is { } charged)
            {
                telemetry.CreditsCharged.Add(charged, new KeyValuePair<string, object?>("model", image.ModelUsed));
                LogSucceeded(generationId, image.ModelUsed, image.FellBack, imageBytes);
                telemetry.GenerationsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", "succeeded"), new KeyValuePair<string, object?>("model", image.ModelUsed));
                telemetry.GenerationDuration.Record(
                    time.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>("model", image.ModelUsed),
                    new KeyValuePair<string, object?>("outcome", "succeeded"));
                if (image.FellBack)
                {
                    telemetry.Fallbacks.Add(1, new KeyValuePair<string, object?>("model", generation.Model));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown cut the job short: it stays pending and another consumer takes it over.
            LogAbandoned(generationId);
        }
        catch (Exception e)
        {
            // Unexpected (Redis down, disk full...): tried again in place (ProcessWithRetriesAsync);
            // the entry stays pending meanwhile, and the delivery limit bounds it.
            LogUnexpected(e, generationId);
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            return JobEnd.UnexpectedError;
        }
        finally
        {
            telemetry.JobsInFlight.Add(-1);
        }

        return JobEnd.Done;
    }

    private Activity? StartConsumerActivity(StreamEntry entry, string generationId)
    {
        var traceParent = (string?)entry[RedisKeys.StreamFields.TraceParent];
        var traceState = (string?)entry[RedisKeys.StreamFields.TraceState];
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        ActivityLink[]? links = parent == default ? null : [new ActivityLink(parent)];
        var activity = WorkerTelemetry.Source.StartActivity("process " + RedisKeys.StreamSpanName, ActivityKind.Consumer, parent, links: links);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "redis");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", RedisKeys.Stream);
            activity.SetTag("messaging.consumer.group.name", RedisKeys.ConsumerGroup);
            // The message id is the generation id on both sides of the queue hop; the stream entry id is ours.
            activity.SetTag("messaging.message.id", generationId);
            activity.SetTag("lumiku.stream.entry_id", entry.Id.ToString());
            activity.SetTag("lumiku.generation.id", generationId);
        }

        return activity;
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

    private void PauseReading(TimeSpan duration)
    {
        var until = (time.GetUtcNow() + duration).UtcTicks;
        Interlocked.Exchange(ref _pausedUntilTicks, Math.Max(Interlocked.Read(ref _pausedUntilTicks), until));
    }

    /// <summary>How long reading stays paused (at most a second per turn, so the heartbeat keeps beating); null when not paused.</summary>
    private TimeSpan? PausedFor()
    {
        var left = new DateTimeOffset(Interlocked.Read(ref _pausedUntilTicks), TimeSpan.Zero) - time.GetUtcNow();
        return left > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(left.Ticks, TimeSpan.TicksPerSecond)) : null;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over {Count} entries abandoned by other consumers")]
    private partial void LogClaimed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed stream entry {EntryId} moved to the dead-letter stream")]
    private partial void LogMalformed(string entryId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Generation {GenerationId} is already finished; entry acknowledged")]
    private partial void LogSkipped(string generationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} has no record; entry dead-lettered")]
    private partial void LogMissing(string generationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId} failed {MaxDeliveries} deliveries: dead-lettered and refunded")]
    private partial void LogDeadLettered(string generationId, int maxDeliveries);

    // Debug: the outcome line below (succeeded or failed) is the one Information line per job.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Generation {GenerationId}: {Model} {Width}x{Height}, attempt {Attempt}")]
    private partial void LogProcessing(string generationId, string model, int width, int height, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} succeeded with {ModelUsed} (fell back: {FellBack}), {Bytes} bytes")]
    private partial void LogSucceeded(string generationId, string modelUsed, bool fellBack, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} failed: {ErrorCode} (status {Status}): {Error}; credits refunded")]
    private partial void LogFailed(string generationId, string errorCode, int? status, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} deferred ({ErrorCode}): left pending for a later delivery; reading paused for {PauseSeconds} s")]
    private partial void LogDeferred(string generationId, string errorCode, double pauseSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} cut short by shutdown; left pending for another consumer")]
    private partial void LogAbandoned(string generationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId} hit an unexpected error; trying again shortly")]
    private partial void LogUnexpected(Exception exception, string generationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream entry {EntryId} still failing after {Tries} tries; left pending for redelivery")]
    private partial void LogLeftPending(string entryId, int tries);
}
