namespace Lumiku.Generation.Images;

/// <summary>Where avatar images live, keyed by generation id. Image bytes never go into Redis.</summary>
public interface IImageStore
{
    /// <summary>
    /// Store the image, once: the first image stored for an id is final, and a later save for the same
    /// id (a job taken over, a late writer) changes nothing, so an image once served never changes.
    /// </summary>
    Task SaveAsync(string generationId, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken = default);

    /// <summary>Open the image for reading, or null when there is none.</summary>
    Task<StoredImage?> OpenAsync(string generationId, CancellationToken cancellationToken = default);

    Task DeleteAsync(string generationId, CancellationToken cancellationToken = default);

    /// <summary>Every stored image, in no particular order, with when it was written (for the orphan sweep).</summary>
    IAsyncEnumerable<StoredImageInfo> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>A stored image as a listing shows it: whose it is and when it was written.</summary>
public sealed record StoredImageInfo(string GenerationId, DateTimeOffset LastModified);

/// <summary>An open image: the caller disposes the stream.</summary>
public sealed record StoredImage(Stream Content, string ContentType, long Length) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
