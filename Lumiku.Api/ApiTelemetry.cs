using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lumiku.Api;

/// <summary>The api's ActivitySource and Meter (registered by the service defaults under "Lumiku.*").</summary>
public sealed class ApiTelemetry : IDisposable
{
    public const string Name = "Lumiku.Api";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public ApiTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        GenerationsAccepted = _meter.CreateCounter<long>("lumiku.generations.accepted", "{generation}", "Generations accepted and queued, by model.");
        GenerationsRejected = _meter.CreateCounter<long>("lumiku.generations.rejected", "{generation}", "Submissions refused, by reason.");
        GenerationsCanceled = _meter.CreateCounter<long>("lumiku.generations.canceled", "{generation}", "Queued generations canceled by their user (each refunded once).");
        CreditsReserved = _meter.CreateCounter<long>("lumiku.credits.reserved", "{credit}", "Credits reserved by accepted generations.");
    }

    public Counter<long> GenerationsAccepted { get; }
    public Counter<long> GenerationsRejected { get; }
    public Counter<long> GenerationsCanceled { get; }
    public Counter<long> CreditsReserved { get; }

    public void Dispose() => _meter.Dispose();
}
