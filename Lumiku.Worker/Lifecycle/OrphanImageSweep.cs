using Lumiku.Generation;
using Lumiku.Generation.Images;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Lifecycle;

/// <summary>
/// Deletes images no record points to (a job that failed or crashed after storing its image, a delete
/// cut short before the image went) once they are older than <see cref="LifecycleOptions.OrphanImageGrace"/>.
/// An image whose record is succeeded, queued or processing stays (see <see cref="GenerationStore.IsImageReferencedAsync"/>).
/// </summary>
public sealed class OrphanImageSweep(
    GenerationStore store, IImageStore images, IOptions<LifecycleOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger<OrphanImageSweep> logger)
    : Sweep(store, options, telemetry, time, logger)
{
    public override string Name => "orphan-images";

    public override async Task<long> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow() - Options.OrphanImageGrace;
        long removed = 0;
        await foreach (var image in images.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            // Only names the stores give images (a generation id); anything else in the folder or container is not ours to delete.
            if (image.GenerationId.Length >= 2 && image.GenerationId.All(char.IsAsciiLetterOrDigit)
                && image.LastModified < cutoff
                && !await Store.IsImageReferencedAsync(image.GenerationId).ConfigureAwait(false))
            {
                await images.DeleteAsync(image.GenerationId, cancellationToken).ConfigureAwait(false);
                removed++;
            }
        }

        return removed;
    }
}
