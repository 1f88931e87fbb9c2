using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// The images the emulator answers with: painted by <see cref="AvatarPainter"/>, padded to
/// <see cref="EmulatorOptions.ImageKb"/>, and kept in a cache bounded by
/// <see cref="EmulatorOptions.PaintCacheMb"/>, so a repeated request (or, with
/// <c>PaintMode=once</c>, any request of a size already painted) costs a lookup instead of
/// ~17 ms of SkiaSharp at 512x512.
/// </summary>
/// <remarks>
/// Painting is serialized: under load, concurrent painting has crashed the process with a general
/// protection fault inside libSkiaSharp. One painter at a time, with a second cache check after
/// the wait, also means 64 simultaneous first requests for a size paint it once.
/// </remarks>
public sealed class PaintedImages : IDisposable
{
    /// <summary>What <c>PaintMode=once</c> paints, for every prompt and seed.</summary>
    private const string OncePrompt = "Lumiku inference emulator";

    private readonly IOptionsMonitor<EmulatorOptions> _options;
    private readonly SemaphoreSlim _painter = new(1, 1);
    private readonly MemoryCache? _cache;

    public PaintedImages(IOptionsMonitor<EmulatorOptions> options)
    {
        _options = options;
        // Sized once at start: PaintCacheMb is the one knob PUT /faults does not change.
        var limit = options.CurrentValue.PaintCacheMb * 1024L * 1024;
        _cache = limit > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = limit }) : null;
    }

    /// <summary>The PNG for a request; the same inputs always give the same bytes.</summary>
    public async ValueTask<byte[]> GetAsync(string prompt, long seed, int width, int height, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var key = options.PaintsOnce
            ? new Key(OncePrompt, 0, width, height, options.ImageKb)
            : new Key(prompt, seed, width, height, options.ImageKb);
        if (_cache is not null && _cache.TryGetValue(key, out byte[]? cached))
        {
            return cached!;
        }

        await _painter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cache is not null && _cache.TryGetValue(key, out cached))
            {
                return cached!;
            }

            var png = PngPadding.PadTo(AvatarPainter.Paint(key.Prompt, key.Seed, width, height), options.ImageKb * 1024);
            _cache?.Set(key, png, new MemoryCacheEntryOptions { Size = png.Length });
            return png;
        }
        finally
        {
            _painter.Release();
        }
    }

    public void Dispose()
    {
        _cache?.Dispose();
        _painter.Dispose();
    }

    // The painter draws from prompt, seed and size only, so the model is not part of the key.
    private readonly record struct Key(string Prompt, long Seed, int Width, int Height, int ImageKb);
}
