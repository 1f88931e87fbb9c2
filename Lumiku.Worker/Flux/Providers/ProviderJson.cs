using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>What the JSON-speaking providers share: a body as bytes with a length, and an image URL fetched without the token.</summary>
internal static class ProviderJson
{
    public const string JsonMediaType = "application/json";

    /// <summary>Serialized by the source-generated context, with a Content-Length (no chunking).</summary>
    public static ByteArrayContent Body<T>(T payload, JsonTypeInfo<T> type) => new(JsonSerializer.SerializeToUtf8Bytes(payload, type))
    {
        Headers = { ContentType = new MediaTypeHeaderValue(JsonMediaType) { CharSet = "utf-8" } },
    };

    public static void AcceptJson(HttpRequestHeaders headers)
    {
        headers.Accept.Clear();
        headers.Accept.Add(new MediaTypeWithQualityHeaderValue(JsonMediaType));
    }

    /// <summary>The answer's JSON (null when it is not JSON), read from the buffered body.</summary>
    public static async Task<JsonNode?> ReadAsync(HttpResponseMessage answer, CancellationToken cancellationToken)
    {
        var content = answer.Content as FluxBufferedContent
            ?? await FluxBufferedContent.ReadAsync(answer.Content, ProviderError.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        answer.Content = content;
        try
        {
            return content.OverCap ? null : JsonNode.Parse(content.Memory.Span);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// GETs the image a provider answered with. A new request with no headers at all: the image lives
    /// on the provider's CDN, which must never see the Hugging Face token.
    /// </summary>
    public static async Task<HttpResponseMessage> FetchImageAsync(HttpResponseMessage answer, string? url, FluxSend send, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            // No URL: the answer stays what it is, and the image reader reports it as no image.
            return answer;
        }

        answer.Dispose();
        using var get = new HttpRequestMessage(HttpMethod.Get, uri);
        return await send(get, cancellationToken).ConfigureAwait(false);
    }
}
