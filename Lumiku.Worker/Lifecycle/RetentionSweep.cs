using Lumiku.Generation;
using Lumiku.Generation.Images;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Lifecycle;

/// <summary>
/// Deletes failed and canceled generations <see cref="LifecycleOptions.FailedDays"/> after they ended:
/// record, list entry and any image (see <see cref="GenerationStore.ExpireFailedAsync"/>).
/// </summary>
public sealed class RetentionSweep(
    GenerationStore store, IImageStore images, IOptions<LifecycleOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger<RetentionSweep> logger)
    : Sweep(store, options, telemetry, time, logger)
{
    public override string Name => "retention";

    public override async Task<long> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow() - Options.FailedRetention;
        long removed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var ids = await Store.ExpireFailedAsync(cutoff).ConfigureAwait(false);
            foreach (var id in ids)
            {
                // A failed job may have stored its image before it failed: it goes with the record.
                await images.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            }

            removed += ids.Count;
            if (ids.Count == 0)
            {
                break;
            }
        }

        return removed;
    }
}
