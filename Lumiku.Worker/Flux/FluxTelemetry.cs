using System.Diagnostics.Metrics;

namespace Lumiku.Worker.Flux;

/// <summary>The Flux client's meter (registered by the service defaults under "Lumiku.*").</summary>
public sealed class FluxTelemetry : IDisposable
{
    public const string MeterName = "Lumiku.Worker.Flux";

    /// <summary>The span event the fallback adds to the current activity.</summary>
    public const string FallbackEventName = "lumiku.flux.fallback";

    /// <summary>The span event the failover adds to the current activity.</summary>
    public const string FailoverEventName = "lumiku.flux.failover";

    /// <summary>Bucket bounds in seconds for provider calls: a schnell image takes about a second, a dev one up to minutes.</summary>
    public static readonly IReadOnlyList<double> LatencyBuckets = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 90, 120, 180, 300];

    private readonly Meter _meter;

    public FluxTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        Fallbacks = _meter.CreateCounter<long>("lumiku.flux.fallbacks", "{call}", "Provider calls switched from the primary model to the fallback model, by primary model and status.");
        Failovers = _meter.CreateCounter<long>("lumiku.flux.failovers", "{call}", "Provider calls switched to the next provider for the same model, by provider, next provider, model and status or error type.");
        Failures = _meter.CreateCounter<long>("lumiku.flux.failures", "{call}", "Provider calls that finally failed, by model and error code.");
        Images = _meter.CreateCounter<long>("lumiku.flux.images", "{image}", "Images the providers produced, by model and provider.");
        AttemptDuration = _meter.CreateHistogram(
            "lumiku.flux.attempt.duration",
            "s",
            "Provider latency of each HTTP attempt (request sent to response headers), by model and status or error type.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    public Counter<long> Fallbacks { get; }
    public Counter<long> Failovers { get; }
    public Counter<long> Failures { get; }
    public Counter<long> Images { get; }
    public Histogram<double> AttemptDuration { get; }

    public void Dispose() => _meter.Dispose();
}
