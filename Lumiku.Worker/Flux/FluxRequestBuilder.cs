using System.Net.Http.Headers;
using System.Text.Json;

namespace Lumiku.Worker.Flux;

/// <summary>Builds the provider request for a model: route and body from the current provider, and call state.</summary>
public static class FluxRequestBuilder
{
    // The previous request's trace headers belong to its own HTTP span; a switched request's span injects fresh ones.
    // Accept and Prefer are the provider's own (IFluxProvider.SetHeaders).
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context", "Accept", "Prefer",
    };

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

    /// <summary>The request for the call's provider and model, relative to the client's base address (the router's root).</summary>
    public static HttpRequestMessage Create(FluxCallState call, FluxModelOptions profile)
    {
        call.Route = call.Provider.Route(call.ProviderModel);
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(call.Route, UriKind.Relative))
        {
            Content = call.Provider.Body(call.Request, profile, call.ProviderModel),
        };
        call.Provider.SetHeaders(message.Headers);
        message.Options.Set(FluxCallState.Key, call);
        return message;
    }

    /// <summary>
    /// The request after a switch (failover to another provider, or fallback to another model): same prompt,
    /// size and seed, <paramref name="profile"/>'s steps and guidance, the previous request's headers (token,
    /// user agent) with the new provider's own, and the previous absolute address (as service discovery
    /// resolved it) with <paramref name="previousRoute"/> swapped for the call's new route.
    /// </summary>
    public static HttpRequestMessage CreateSwitch(HttpRequestMessage previous, string previousRoute, FluxCallState call, FluxModelOptions profile)
    {
        var uri = previous.RequestUri?.AbsoluteUri ?? throw new InvalidOperationException("The previous request has no address.");
        if (!uri.EndsWith(previousRoute, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The previous request's address does not end with '{previousRoute}'.");
        }

        call.Route = call.Provider.Route(call.ProviderModel);
        var message = new HttpRequestMessage(previous.Method, new Uri(uri[..^previousRoute.Length] + call.Route))
        {
            Content = call.Provider.Body(call.Request, profile, call.ProviderModel),
            Version = previous.Version,
            VersionPolicy = previous.VersionPolicy,
        };
        foreach (var header in previous.Headers.Where(h => !NotCopied.Contains(h.Key)))
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        call.Provider.SetHeaders(message.Headers);
        message.Options.Set(FluxCallState.Key, call);
        call.CreatedMessages.Add(message);
        return message;
    }
}
