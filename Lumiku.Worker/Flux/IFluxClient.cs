namespace Lumiku.Worker.Flux;

/// <summary>Text-to-image with FLUX: the consumer's only view of the provider.</summary>
public interface IFluxClient
{
    /// <summary>
    /// Generate one image. Throws <see cref="FluxException"/> when the provider finally fails
    /// (after the client's retries and fallback).
    /// </summary>
    Task<FluxImage> GenerateAsync(FluxRequest request, CancellationToken cancellationToken);
}
