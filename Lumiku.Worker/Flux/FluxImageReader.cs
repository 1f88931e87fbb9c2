using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Accepts a provider answer as an image only when its bytes are PNG, JPEG or WebP and under the size
/// cap; a JSON answer carrying base64 image data (<c>b64_json</c>, a data URL...) is accepted too.
/// </summary>
public static class FluxImageReader
{
    private const int MaxJsonDepth = 8;

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
    /// Recognises the answer's body, which <see cref="FluxResponseBufferingHandler"/> has already read
    /// inside the attempt (a content that is not buffered yet is read here, the same way). An image
    /// answer keeps the pooled buffer (see <see cref="Result.Rented"/>); any other outcome leaves it
    /// to the content, which gives it back when the answer is disposed.
    /// </summary>
    public static async Task<Result> ReadAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content is not FluxBufferedContent body)
        {
            response.Content = body = await FluxBufferedContent.ReadAsync(response.Content, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        if (body.OverCap || body.Length > maxBytes)
        {
            return body.Headers.ContentLength is { } declared && declared > maxBytes && body.Length == 0
                ? new(null, null, $"{declared} bytes is over the {maxBytes}-byte cap")
                : new(null, null, $"the body is over the {maxBytes}-byte cap");
        }

        if (ImageSniffer.ContentTypeOf(body.Memory.Span) is { } contentType)
        {
            var length = body.Length;
            var rented = body.TakeBuffer();
            return new(rented.AsMemory(0, length), contentType, null, rented);
        }

        // Not an image as it stands: a JSON answer's image is decoded into an array of its own.
        return Recognise(body.Memory, maxBytes);
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
