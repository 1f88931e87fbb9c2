using Microsoft.Extensions.Caching.Memory;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// The images fal and Replicate answer with as URLs, served by the emulator itself at <c>GET /files/{id}</c>
/// (no token, like their CDNs), and fal's queued results; kept for ten minutes in at most 64 MiB.
/// </summary>
public sealed class IssuedImages : IDisposable
{
    public const string Route = "files/";

    private static readonly TimeSpan Kept = TimeSpan.FromMinutes(10);

    private readonly MemoryCache _images = new(new MemoryCacheOptions { SizeLimit = 64L * 1024 * 1024 });

    /// <summary>Keeps <paramref name="bytes"/> and answers its absolute URL on the host the request came to.</summary>
    public string Issue(HttpRequest request, byte[] bytes)
    {
        var id = Guid.NewGuid().ToString("N") + ".png";
        _images.Set(id, bytes, new MemoryCacheEntryOptions { Size = bytes.Length, AbsoluteExpirationRelativeToNow = Kept });
        return $"{request.Scheme}://{request.Host}/{Route}{id}";
    }

    public byte[]? Get(string id) => _images.TryGetValue(id, out byte[]? bytes) ? bytes : null;

    /// <summary>Keeps a queued request's result (fal's queue) under its request id.</summary>
    public void KeepResult(string requestId, string json) =>
        _images.Set("result:" + requestId, json, new MemoryCacheEntryOptions { Size = json.Length * 2L, AbsoluteExpirationRelativeToNow = Kept });

    public string? Result(string requestId) => _images.TryGetValue("result:" + requestId, out string? json) ? json : null;

    public void Dispose() => _images.Dispose();
}
