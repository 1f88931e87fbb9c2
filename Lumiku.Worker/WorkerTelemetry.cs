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
        GenerationDuration = _meter.CreateHistogram<double>("lumiku.generation.duration", "s", "Time from a job's start in the worker to its terminal state.");
        Fallbacks = _meter.CreateCounter<long>("lumiku.generations.fallbacks", "{generation}", "Generations that fell back from the primary model.");
        Refunds = _meter.CreateCounter<long>("lumiku.credits.refunds", "{generation}", "Reservations refunded after a final failure.");
        DeadLetters = _meter.CreateCounter<long>("lumiku.generations.dead_letters", "{entry}", "Stream entries moved to the dead-letter stream.");
    }

    public Counter<long> GenerationsCompleted { get; }
    public Histogram<double> GenerationDuration { get; }
    public Counter<long> Fallbacks { get; }
    public Counter<long> Refunds { get; }
    public Counter<long> DeadLetters { get; }

    public void Dispose() => _meter.Dispose();
}
