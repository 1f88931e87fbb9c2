using System.Net.Http.Headers;
using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>Builds the provider request for a model: route, body from the model's profile, and call state.</summary>
public static class FluxRequestBuilder
{
    public const string RoutePrefix = "models/";

    // The primary's trace headers belong to its own HTTP span; the fallback's span injects fresh ones.
    private static readonly HashSet<string> TraceHeaders = new(StringComparer.OrdinalIgnoreCase) { "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context" };

    public static FluxPayload Payload(FluxRequest request, FluxModelOptions profile) => new(
        request.Prompt,
        new FluxParameters(
            request.Width,
            request.Height,
            profile.Steps,
            profile.GuidanceScale,
            profile.SendNegativePrompt && !string.IsNullOrWhiteSpace(request.NegativePrompt) ? request.NegativePrompt : null,
            request.Seed));

    /// <summary>
    /// The JSON body as bytes with a Content-Length (JsonContent streams it chunked, which the
    /// provider then has to de-chunk), serialized by the source-generated context.
    /// </summary>
    public static ByteArrayContent Body(FluxPayload payload) => new(JsonSerializer.SerializeToUtf8Bytes(payload, FluxJsonContext.Default.FluxPayload))
    {
        Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } },
    };

    /// <summary>The request for <paramref name="profile"/>'s model, relative to the client's base address.</summary>
    public static HttpRequestMessage Create(FluxCallState call, FluxModelOptions profile)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(RoutePrefix + profile.Model, UriKind.Relative))
        {
            Content = Body(Payload(call.Request, profile)),
        };
        message.Options.Set(FluxCallState.Key, call);
        return message;
    }

    /// <summary>
    /// The fallback's request: same prompt, size and seed, the fallback's own steps and guidance, the
    /// primary's headers (token, accept, user agent), and the primary's absolute address with the model swapped.
    /// </summary>
    public static HttpRequestMessage CreateFallback(HttpRequestMessage primary, FluxCallState call, FluxModelOptions fallback)
    {
        var uri = primary.RequestUri?.AbsoluteUri ?? throw new InvalidOperationException("The primary request has no address.");
        var primaryRoute = RoutePrefix + call.Model;
        if (!uri.EndsWith(primaryRoute, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The primary request's address does not end with '{primaryRoute}'.");
        }

        var message = new HttpRequestMessage(primary.Method, new Uri(uri[..^primaryRoute.Length] + RoutePrefix + fallback.Model))
        {
            Content = Body(Payload(call.Request, fallback)),
            Version = primary.Version,
            VersionPolicy = primary.VersionPolicy,
        };
        foreach (var header in primary.Headers.Where(h => !TraceHeaders.Contains(h.Key)))
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        message.Options.Set(FluxCallState.Key, call);
        return message;
    }
}
