using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lumiku.Worker;

/// <summary>The worker's ActivitySource and Meter (registered by the service defaults under "Lumiku.*").</summary>
public sealed class WorkerTelemetry : IDisposable
{
    public const string Name = "Lumiku.Worker";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public WorkerTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        GenerationsCompleted = _meter.CreateCounter<long>("lumiku.generations.completed", "{generation}", "Generations that reached a terminal state, by outcome and model.");
        GenerationDuration = _meter.CreateHistogram(
            "lumiku.generation.duration",
            "s",
            "Time from a job's start in the worker to its terminal state.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = Flux.FluxTelemetry.LatencyBuckets });
        Fallbacks = _meter.CreateCounter<long>("lumiku.generations.fallbacks", "{generation}", "Generations that fell back from the primary model.");
        Refunds = _meter.CreateCounter<long>("lumiku.credits.refunds", "{generation}", "Reservations refunded after a final failure.");
        Deferrals = _meter.CreateCounter<long>("lumiku.generations.deferred", "{generation}", "Jobs put back to queued without counting a delivery (breaker open, provider said later), by error.");
        DeadLetters = _meter.CreateCounter<long>("lumiku.generations.dead_letters", "{entry}", "Stream entries moved to the dead-letter stream.");
        CreditsCharged = _meter.CreateCounter<long>("lumiku.credits.charged", "{credit}", "Credits charged for delivered avatars, by model.");
        WebhooksSent = _meter.CreateCounter<long>("lumiku.webhooks.sent", "{event}", "Webhook events delivered (a 2xx answer), by event type.");
        WebhooksRetried = _meter.CreateCounter<long>("lumiku.webhooks.retried", "{attempt}", "Failed webhook attempts with a retry scheduled, by event type.");
        WebhooksFailed = _meter.CreateCounter<long>("lumiku.webhooks.failed", "{event}", "Webhook events given up after the last retry, by event type.");
        WebhooksDisabled = _meter.CreateCounter<long>("lumiku.webhooks.disabled", "{event}", "Webhook events answered 410 Gone: the generation's webhook sends no more, by event type.");
        SweepRemoved = _meter.CreateCounter<long>("lumiku.sweep.removed", "{item}", "What the lifecycle sweeps removed, by sweep (retention, orphan-images, consumers, dead-letters).");
        JobsInFlight = _meter.CreateUpDownCounter<long>("lumiku.worker.jobs_in_flight", "{job}", "Jobs this worker is processing right now.");
        _meter.CreateObservableGauge("lumiku.queue.length", () => Volatile.Read(ref _queueLength), "{entry}", "Entries in the generation stream (acknowledged ones until trimmed).");
        _meter.CreateObservableGauge("lumiku.queue.pending", () => Volatile.Read(ref _queuePending), "{entry}", "Entries delivered to a consumer and not yet acknowledged.");
        _meter.CreateObservableGauge("lumiku.queue.lag", () => Volatile.Read(ref _queueLag), "{entry}", "Entries not yet delivered to any consumer: the backlog.");
        _meter.CreateObservableGauge("lumiku.queue.dead_letters", () => Volatile.Read(ref _deadLetters), "{entry}", "Entries in the dead-letter stream.");
    }

    private long _queueLength;
    private long _queuePending;
    private long _queueLag;
    private long _deadLetters;

    public Counter<long> CreditsCharged { get; }
    public Counter<long> SweepRemoved { get; }
    public UpDownCounter<long> JobsInFlight { get; }

    /// <summary>Latest queue sample (from <see cref="Queue.QueueGauges"/>).</summary>
    public void UpdateQueue(long length, long pending, long lag, long deadLetters)
    {
        Volatile.Write(ref _queueLength, length);
        Volatile.Write(ref _queuePending, pending);
        Volatile.Write(ref _queueLag, lag);
        Volatile.Write(ref _deadLetters, deadLetters);
    }

    public Counter<long> GenerationsCompleted { get; }
    public Histogram<double> GenerationDuration { get; }
    public Counter<long> Fallbacks { get; }
    public Counter<long> Refunds { get; }
    public Counter<long> DeadLetters { get; }
    public Counter<long> Deferrals { get; }
    public Counter<long> WebhooksSent { get; }
    public Counter<long> WebhooksRetried { get; }
    public Counter<long> WebhooksFailed { get; }
    public Counter<long> WebhooksDisabled { get; }

    public void Dispose() => _meter.Dispose();
}
