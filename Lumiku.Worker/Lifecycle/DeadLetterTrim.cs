using Lumiku.Generation;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Lifecycle;

/// <summary>Caps the dead-letter stream near <see cref="LifecycleOptions.DeadLetterMaxLength"/> entries, the oldest going first.</summary>
public sealed class DeadLetterTrim(GenerationStore store, IOptions<LifecycleOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger<DeadLetterTrim> logger)
    : Sweep(store, options, telemetry, time, logger)
{
    public override string Name => "dead-letters";

    public override Task<long> SweepOnceAsync(CancellationToken cancellationToken) => Store.TrimDeadLettersAsync(Options.DeadLetterMaxLength);
}
