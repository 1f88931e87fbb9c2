using System.Diagnostics.Metrics;

namespace Lumiku.Worker.Flux;

/// <summary>The Flux client's meter (registered by the service defaults under "Lumiku.*").</summary>
public sealed class FluxTelemetry : IDisposable
{
    public const string MeterName = "Lumiku.Worker.Flux";

    /// <summary>The span event the fallback adds to the current activity.</summary>
    public const string FallbackEventName = "lumiku.flux.fallback";

    private readonly Meter _meter;

    public FluxTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        Fallbacks = _meter.CreateCounter<long>("lumiku.flux.fallbacks", "{call}", "Provider calls switched from the primary model to the fallback model, by primary model and status.");
        Failures = _meter.CreateCounter<long>("lumiku.flux.failures", "{call}", "Provider calls that finally failed, by model and error code.");
        Images = _meter.CreateCounter<long>("lumiku.flux.images", "{image}", "Images the provider produced, by model.");
    }

    public Counter<long> Fallbacks { get; }
    public Counter<long> Failures { get; }
    public Counter<long> Images { get; }

    public void Dispose() => _meter.Dispose();
}
