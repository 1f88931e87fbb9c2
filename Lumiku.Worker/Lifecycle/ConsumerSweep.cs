using Lumiku.Generation;
using Lumiku.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Lifecycle;

/// <summary>
/// Removes consumers that are gone from the group: no pending entries and idle past
/// <see cref="WorkerOptions.ConsumerIdleRemoval"/> (consumer names are host + process id, so every
/// restart leaves one behind).
/// </summary>
public sealed class ConsumerSweep(
    GenerationStore store, IOptions<LifecycleOptions> options, IOptions<WorkerOptions> worker, WorkerTelemetry telemetry, TimeProvider time, ILogger<ConsumerSweep> logger)
    : Sweep(store, options, telemetry, time, logger)
{
    public override string Name => "consumers";

    public override async Task<long> SweepOnceAsync(CancellationToken cancellationToken) =>
        (await Store.RemoveGoneConsumersAsync(worker.Value.ConsumerIdleRemoval).ConfigureAwait(false)).Count;
}
