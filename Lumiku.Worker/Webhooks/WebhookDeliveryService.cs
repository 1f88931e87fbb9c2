using System.Diagnostics;
using System.Text.Json;
using Lumiku.Generation;
using Lumiku.Generation.Webhooks;
using Lumiku.Worker.Queue;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Webhooks;

/// <summary>
/// Delivers the webhook outbox: reads it through a consumer group (so several workers share the
/// work; entries a stopped worker held are taken over after <see cref="WebhookOptions.ClaimAfter"/>),
/// sends each event signed, and settles it (2xx: delivered; 410: the generation's webhook disabled;
/// schedule exhausted: failed) or parks it for the next retry. A generation's events go out in order:
/// one waits, parked in Redis, until the one before it settled.
/// </summary>
public sealed partial class WebhookDeliveryService(
    WebhookStore store,
    WebhookSecrets secrets,
    WebhookSender sender,
    WorkerTelemetry telemetry,
    IOptions<WebhookOptions> options,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<WebhookDeliveryService> logger) : BackgroundService
{
    // An empty outbox is polled every 50 ms (one XREADGROUP; at 200 ms the wait was most of a
    // delivery's lag); due retries and entries a stopped worker left are looked for every 500 ms.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RedisRetryDelay = TimeSpan.FromSeconds(1);

    private WebhookOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var consumer = worker.Value.ResolveConsumerName();
        using var slots = new SemaphoreSlim(Options.Concurrency);
        var running = new HashSet<Task>();
        var groupReady = false;
        var lastHousekeeping = 0L;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Every slot busy: wait for one to free up, not for the poll interval (at 16 slots that
                // capped delivery at 16 per 200 ms, below what the pipeline completes; docs/performance.md).
                if (slots.CurrentCount == 0)
                {
                    await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    slots.Release();
                }

                IReadOnlyList<(RedisValue EntryId, WebhookEvent? Event)> batch = [];
                try
                {
                    if (!groupReady)
                    {
                        await store.EnsureGroupAsync().ConfigureAwait(false);
                        groupReady = true;
                    }

                    var housekeeping = time.GetElapsedTime(lastHousekeeping) >= HousekeepingInterval;
                    if (housekeeping)
                    {
                        await store.PromoteDueAsync(time.GetUtcNow(), 100).ConfigureAwait(false);
                        lastHousekeeping = time.GetTimestamp();
                    }

                    batch = await store.ReadAsync(consumer, slots.CurrentCount, housekeeping ? Options.ClaimAfter : null).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    LogRedisUnavailable(e.Message);
                    await Task.Delay(RedisRetryDelay, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                foreach (var (entryId, webhookEvent) in batch)
                {
                    await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    var task = Task.Run(() => DeliverAsync(entryId, webhookEvent, stoppingToken), CancellationToken.None);
                    lock (running)
                    {
                        running.Add(task);
                    }

                    _ = task.ContinueWith(t =>
                    {
                        slots.Release();
                        lock (running)
                        {
                            running.Remove(t);
                        }
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                if (batch.Count == 0)
                {
                    await Task.Delay(PollInterval, time, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        // Entries whose send was cut off stay pending and are taken over (or re-read at restart).
        await Task.WhenAll(left).ConfigureAwait(false);
    }

    /// <summary>One entry, start to settle; never throws (a Redis failure leaves the entry pending for a takeover).</summary>
    private async Task DeliverAsync(RedisValue entryId, WebhookEvent? webhookEvent, CancellationToken stoppingToken)
    {
        try
        {
            if (webhookEvent is null || GenerationRecord.FromMap(webhookEvent.Record) is not { Webhook: { } target } record
                || !Uri.TryCreate(target, UriKind.Absolute, out var url))
            {
                LogMalformed(entryId.ToString());
                await store.DropAsync(entryId).ConfigureAwait(false);
                return;
            }

            var verdict = await store.BeginAsync(entryId, webhookEvent).ConfigureAwait(false);
            if (verdict is BeginVerdict.Parked or BeginVerdict.AlreadySettled)
            {
                return;
            }

            // A first attempt has no history to read (a cut-off one was never recorded): one round trip fewer.
            var earlier = webhookEvent.Attempt == 0 ? null : await store.GetDeliveryAsync(webhookEvent).ConfigureAwait(false);
            var attempts = new List<WebhookAttempt>(earlier?.Attempts ?? []);
            if (verdict == BeginVerdict.Disabled)
            {
                await store.SettleAsync(entryId, webhookEvent, new(webhookEvent.Id, webhookEvent.Type, WebhookDelivery.Disabled, attempts), disable: false, Options.HistoryRetention).ConfigureAwait(false);
                return;
            }

            var attempt = await SendAsync(url, webhookEvent, record, stoppingToken).ConfigureAwait(false);
            attempts.Add(attempt);
            var tags = new KeyValuePair<string, object?>("event", webhookEvent.Type);
            if (attempt.StatusCode is >= 200 and < 300)
            {
                telemetry.WebhooksSent.Add(1, tags);
                await store.SettleAsync(entryId, webhookEvent, new(webhookEvent.Id, webhookEvent.Type, WebhookDelivery.Delivered, attempts), disable: false, Options.HistoryRetention).ConfigureAwait(false);
                LogDelivered(webhookEvent.Id, webhookEvent.Type, webhookEvent.Gen, attempts.Count);
            }
            else if (attempt.StatusCode == StatusCodes.Status410Gone)
            {
                telemetry.WebhooksDisabled.Add(1, tags);
                await store.SettleAsync(entryId, webhookEvent, new(webhookEvent.Id, webhookEvent.Type, WebhookDelivery.Disabled, attempts), disable: true, Options.HistoryRetention).ConfigureAwait(false);
                LogDisabled(webhookEvent.Gen, webhookEvent.Id);
            }
            else if (webhookEvent.Attempt < Options.EffectiveRetrySchedule.Count)
            {
                var due = time.GetUtcNow() + Jittered(Options.EffectiveRetrySchedule[webhookEvent.Attempt]);
                telemetry.WebhooksRetried.Add(1, tags);
                await store.RetryAsync(entryId, webhookEvent, new(webhookEvent.Id, webhookEvent.Type, WebhookDelivery.Retrying, attempts, due), due).ConfigureAwait(false);
                LogRetrying(webhookEvent.Id, webhookEvent.Gen, attempt.Error ?? "", due);
            }
            else
            {
                telemetry.WebhooksFailed.Add(1, tags);
                await store.SettleAsync(entryId, webhookEvent, new(webhookEvent.Id, webhookEvent.Type, WebhookDelivery.Failed, attempts), disable: false, Options.HistoryRetention).ConfigureAwait(false);
                LogGaveUp(webhookEvent.Id, webhookEvent.Gen, attempts.Count, attempt.Error ?? "");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogLeftPending(entryId.ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogLeftPendingAfterRedisError(entryId.ToString(), e.Message);
        }
    }

    /// <summary>
    /// The attempt, as a client span in the job's trace (parented on the traceparent the generation
    /// carries) linked to the span of the state change it reports (the event's <see cref="WebhookEvent.Link"/>).
    /// </summary>
    private async Task<WebhookAttempt> SendAsync(Uri url, WebhookEvent webhookEvent, GenerationRecord record, CancellationToken stoppingToken)
    {
        ActivityContext.TryParse(record.TraceParent, record.TraceState, out var job);
        ActivityLink[]? links = ActivityContext.TryParse(webhookEvent.Link, null, isRemote: true, out var change) ? [new ActivityLink(change)] : null;
        using var activity = WorkerTelemetry.Source.StartActivity("webhook " + webhookEvent.Type, ActivityKind.Client, job, links: links);
        activity?.SetTag("lumiku.generation.id", webhookEvent.Gen);
        activity?.SetTag("lumiku.webhook.id", webhookEvent.Id);
        activity?.SetTag("lumiku.webhook.event", webhookEvent.Type);
        activity?.SetTag("lumiku.webhook.attempt", webhookEvent.Attempt + 1);
        activity?.SetTag("server.address", url.Host);

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new WebhookPayload(WebhookEventTypes.PayloadType(webhookEvent.Type), webhookEvent.OccurredAt, GenerationResponse.From(record)),
            WebhookPayloadJsonContext.Default.WebhookPayload);
        var signing = await secrets.SigningSecretsAsync(record.UserId).ConfigureAwait(false);
        var attempt = await sender.SendAsync(url, webhookEvent.Id, body, signing, stoppingToken).ConfigureAwait(false);
        if (attempt.StatusCode is { } status)
        {
            activity?.SetTag("http.response.status_code", status);
        }

        if (attempt.Error is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, attempt.Error);
        }

        return attempt;
    }

    /// <summary>±10 %, so receivers that failed together are not retried together.</summary>
    private static TimeSpan Jittered(TimeSpan delay) => delay * (0.9 + (Random.Shared.NextDouble() * 0.2));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook {EventId} ({EventType}) for generation {GenerationId} delivered after {Attempts} attempts")]
    private partial void LogDelivered(string eventId, string eventType, string generationId, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {EventId} for generation {GenerationId} failed ({Error}); next attempt at {DueAt:o}")]
    private partial void LogRetrying(string eventId, string generationId, string error, DateTimeOffset dueAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {EventId} for generation {GenerationId} given up after {Attempts} attempts: {Error}")]
    private partial void LogGaveUp(string eventId, string generationId, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "The receiver answered 410 to webhook {EventId}: no more webhooks for generation {GenerationId}")]
    private partial void LogDisabled(string generationId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook outbox entry {EntryId} is not an event; dropped")]
    private partial void LogMalformed(string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook outbox unavailable: {Reason}; trying again")]
    private partial void LogRedisUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook outbox entry {EntryId} left pending at shutdown")]
    private partial void LogLeftPending(string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook outbox entry {EntryId} left pending after a Redis error: {Reason}")]
    private partial void LogLeftPendingAfterRedisError(string entryId, string reason);
}
