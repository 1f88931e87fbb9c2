using System.Buffers;
using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Accepts a provider answer as an image only when its bytes are PNG, JPEG or WebP and under the size
/// cap; a JSON answer carrying base64 image data (<c>b64_json</c>, a data URL...) is accepted too.
/// </summary>
public static class FluxImageReader
{
    private const int MaxJsonDepth = 8;
    private const int InitialBuffer = 64 * 1024;

    /// <summary>
    /// The image and its sniffed content type, or the reason there is no image. When
    /// <see cref="Rented"/> is set, <see cref="Bytes"/> lives in that pooled buffer and its owner
    /// must return it (<see cref="FluxImage"/> does on dispose).
    /// </summary>
    public readonly record struct Result(ReadOnlyMemory<byte>? Bytes, string? ContentType, string? Problem, byte[]? Rented = null)
    {
        public bool IsImage => Bytes is not null;
    }

    /// <summary>
    /// Reads the body into a buffer rented from the shared pool, sized by Content-Length when there is
    /// one, stopping as soon as it passes <paramref name="maxBytes"/>: no per-job Large Object Heap
    /// allocation and no copy on the way. An image answer keeps the buffer (see
    /// <see cref="Result.Rented"/>); any other outcome gives it back here.
    /// </summary>
    public static async Task<Result> ReadAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > maxBytes)
        {
            return new(null, null, $"{declared} bytes is over the {maxBytes}-byte cap");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // With a Content-Length the transport never gives more than that, so an exact buffer does.
            var buffer = ArrayPool<byte>.Shared.Rent(declared is { } length ? Math.Max(1, (int)length) : InitialBuffer);
            var filled = 0;
            var kept = false;
            try
            {
                while (true)
                {
                    if (filled == buffer.Length)
                    {
                        if (declared is not null)
                        {
                            break;
                        }

                        buffer = Grow(buffer, filled, maxBytes);
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                    if (filled > maxBytes)
                    {
                        return new(null, null, $"the body is over the {maxBytes}-byte cap");
                    }
                }

                if (ImageSniffer.ContentTypeOf(buffer.AsSpan(0, filled)) is { } contentType)
                {
                    kept = true;
                    return new(buffer.AsMemory(0, filled), contentType, null, buffer);
                }

                // Not an image as it stands: a JSON answer's image is decoded into an array of its own.
                return Recognise(buffer.AsMemory(0, filled), maxBytes);
            }
            finally
            {
                if (!kept)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    /// <summary>Recognise a body held in memory; an image result points into <paramref name="body"/>.</summary>
    public static Result Recognise(ReadOnlyMemory<byte> body, int maxBytes)
    {
        if (ImageSniffer.ContentTypeOf(body.Span) is { } contentType)
        {
            return new(body, contentType, null);
        }

        var text = body.Span.TrimStart(" \t\r\n"u8);
        if (text.Length > 0 && text[0] is (byte)'{' or (byte)'[')
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (FindBase64Image(json.RootElement, maxBytes, 0) is { } image)
                {
                    return new(image, ImageSniffer.ContentTypeOf(image), null);
                }

                return new(null, null, "a JSON answer without base64 image data");
            }
            catch (JsonException)
            {
                return new(null, null, "a body that starts like JSON but does not parse");
            }
        }

        return new(null, null, body.Length == 0 ? "an empty body" : $"{body.Length} bytes that are not PNG, JPEG or WebP");
    }

    private static byte[] Grow(byte[] buffer, int filled, int maxBytes)
    {
        // One byte past the cap is enough to tell "over the cap".
        var size = (int)Math.Min((long)maxBytes + 1, Math.Max(buffer.Length * 2L, InitialBuffer));
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, filled).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    private static byte[]? FindBase64Image(JsonElement element, int maxBytes, int depth)
    {
        if (depth > MaxJsonDepth)
        {
            return null;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var value = element.GetString()!;
                // Data URLs ("data:image/png;base64,....") and bare base64 both occur.
                var comma = value.StartsWith("data:", StringComparison.Ordinal) ? value.IndexOf(',', StringComparison.Ordinal) : -1;
                var base64 = comma >= 0 ? value.AsSpan(comma + 1) : value.AsSpan();
                if (base64.Length < 16 || base64.Length / 4 * 3 > maxBytes)
                {
                    return null;
                }

                var bytes = new byte[base64.Length / 4 * 3 + 3];
                return Convert.TryFromBase64Chars(base64, bytes, out var written) && ImageSniffer.ContentTypeOf(bytes.AsSpan(0, written)) is not null
                    ? bytes[..written]
                    : null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (FindBase64Image(property.Value, maxBytes, depth + 1) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindBase64Image(item, maxBytes, depth + 1) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }
}
