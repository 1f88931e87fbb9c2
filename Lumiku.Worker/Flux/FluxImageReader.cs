using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Accepts a provider answer as an image only when its bytes are PNG, JPEG or WebP and under the size
/// cap; a JSON answer carrying base64 image data (<c>b64_json</c>, a data URL...) is accepted too.
/// </summary>
public static class FluxImageReader
{
    private const int MaxJsonDepth = 8;

    /// <summary>The image bytes and their sniffed content type, or the reason there is no image.</summary>
    public readonly record struct Result(byte[]? Bytes, string? ContentType, string? Problem);

    public static async Task<Result> ReadAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            return new(null, null, $"{response.Content.Headers.ContentLength} bytes is over the {maxBytes}-byte cap");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return new(null, null, $"the body is over the {maxBytes}-byte cap");
                }

                buffer.Write(chunk, 0, read);
            }

            return Recognise(buffer.ToArray(), maxBytes);
        }
    }

    public static Result Recognise(byte[] body, int maxBytes)
    {
        if (ImageSniffer.ContentTypeOf(body) is { } contentType)
        {
            return new(body, contentType, null);
        }

        var text = body.AsSpan().TrimStart(" \t\r\n"u8);
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
