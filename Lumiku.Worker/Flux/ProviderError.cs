using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>
/// A provider error answer, parsed from the body bytes: JSON <c>error</c> (string or list),
/// <c>error_description</c>, or plain text; with the status, reason phrase and <c>x-request-id</c>.
/// </summary>
public sealed record ProviderError(string Model, int Status, string? Reason, string Message, string? RequestId, double? EstimatedTimeSeconds)
{
    /// <summary>The most of an error body that is read (by <see cref="FluxResponseBufferingHandler"/>) and parsed.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private const int MaxMessageChars = 1000;

    /// <summary>The wait the answer's headers ask for before a new try (<c>Retry-After</c>, else <c>RateLimit</c> <c>t=</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>One line for logs, records and exceptions, e.g. <c>400 Bad Request: Model access denied. (request 1a2b)</c>.</summary>
    public string Summary => $"{Status} {Reason}: {Message}" + (RequestId is null ? "" : $" (request {RequestId})");

    /// <summary>Reads and parses an error answer; the content is buffered first, so it can be read again.</summary>
    public static async Task<ProviderError> ReadAsync(HttpResponseMessage response, string model, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var reason = response.ReasonPhrase ?? ReasonPhraseOf(response.StatusCode);
        var requestId = response.Headers.TryGetValues(FluxHeaders.RequestId, out var ids) ? ids.FirstOrDefault() : null;
        byte[] body;
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxBodyBytes, cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return new ProviderError(model, status, reason, $"(error body over {MaxBodyBytes / 1024} KiB)", requestId, null);
        }

        var (message, estimated) = Parse(body);
        return new ProviderError(model, status, reason, message, requestId, estimated)
        {
            RetryAfter = FluxRetryDelay.RetryAfter(response, TimeProvider.System) ?? FluxRetryDelay.RateLimitReset(response),
        };
    }

    /// <summary>The message and <c>estimated_time</c> of an error body.</summary>
    public static (string Message, double? EstimatedTimeSeconds) Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return ("(empty body)", null);
        }

        try
        {
            using var json = JsonDocument.Parse(body.ToArray());
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                var root = json.RootElement;
                var parts = new List<string>();
                if (root.TryGetProperty("error", out var error))
                {
                    parts.AddRange(Texts(error));
                }

                if (root.TryGetProperty("error_description", out var description))
                {
                    parts.AddRange(Texts(description));
                }

                if (parts.Count == 0 && root.TryGetProperty("message", out var message))
                {
                    parts.AddRange(Texts(message));
                }

                double? estimated = root.TryGetProperty("estimated_time", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
                return (Clip(parts.Count > 0 ? string.Join("; ", parts) : root.GetRawText()), estimated);
            }
        }
        catch (JsonException)
        {
            // Not JSON: the router sometimes answers with text or HTML.
        }

        return (Clip(string.Join(' ', Encoding.UTF8.GetString(body).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))), null);
    }

    private static IEnumerable<string> Texts(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Texts),
        JsonValueKind.Null or JsonValueKind.Undefined => [],
        _ => [element.GetRawText()],
    };

    private static string Clip(string text) => text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "...";

    private static string ReasonPhraseOf(HttpStatusCode status) =>
        Enum.IsDefined(status) ? status.ToString() : ((int)status).ToString(CultureInfo.InvariantCulture);
}
