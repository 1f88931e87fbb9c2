namespace Lumiku.Worker.Flux;

/// <summary>A generated image and how it was made.</summary>
/// <param name="ContentType">Told from the magic bytes (PNG, JPEG or WebP), not from the provider's header.</param>
/// <param name="ModelUsed">The model that produced it (FLUX.1-schnell after a fallback).</param>
/// <param name="PrimaryError">The primary model's error, when <paramref name="FellBack"/>.</param>
public sealed record FluxImage(ReadOnlyMemory<byte> Bytes, string ContentType, string ModelUsed, bool FellBack, string? PrimaryError);
