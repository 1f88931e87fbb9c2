using System.Buffers;

namespace Lumiku.Worker.Flux;

/// <summary>
/// A generated image and how it was made. Its bytes may live in a buffer rented from
/// <see cref="ArrayPool{T}.Shared"/> (150 KB - 1 MB images would otherwise be a Large Object Heap
/// allocation per job): dispose the image once the bytes are stored, and do not keep
/// <see cref="Bytes"/> beyond that.
/// </summary>
public sealed class FluxImage : IDisposable
{
    private byte[]? _rented;

    /// <param name="bytes">The image.</param>
    /// <param name="contentType">Told from the magic bytes (PNG, JPEG or WebP), not from the provider's header.</param>
    /// <param name="modelUsed">The model that produced it (FLUX.1-schnell after a fallback).</param>
    /// <param name="fellBack">Whether the primary model failed and the fallback produced it.</param>
    /// <param name="primaryError">The primary model's error, when <paramref name="fellBack"/>.</param>
    public FluxImage(ReadOnlyMemory<byte> bytes, string contentType, string modelUsed, bool fellBack, string? primaryError)
    {
        Bytes = bytes;
        ContentType = contentType;
        ModelUsed = modelUsed;
        FellBack = fellBack;
        PrimaryError = primaryError;
    }

    internal FluxImage(byte[] rented, int length, string contentType, string modelUsed, bool fellBack, string? primaryError)
        : this(rented.AsMemory(0, length), contentType, modelUsed, fellBack, primaryError) =>
        _rented = rented;

    public ReadOnlyMemory<byte> Bytes { get; private set; }

    public string ContentType { get; }

    public string ModelUsed { get; }

    /// <summary>The inference provider that produced it (hf-inference, fal-ai, replicate, together).</summary>
    public string Provider { get; init; } = Providers.FluxProviderNames.HfInference;

    public bool FellBack { get; }

    public string? PrimaryError { get; }

    /// <summary>Returns a rented buffer to the pool; <see cref="Bytes"/> is empty afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            Bytes = default;
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
