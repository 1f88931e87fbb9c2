using System.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.Http;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The primary model's answer that triggers the fallback (dev's 400) is the expected, handled
/// outcome of a job that then succeeds, so its HTTP client span must not read as an error in the
/// dashboard: its status stays Unset and it carries a <see cref="HandledEventName"/> event instead.
/// Every other failed attempt keeps the instrumentation's Error status.
/// </summary>
public static class FluxFallbackTracing
{
    public const string HandledEventName = "lumiku.flux.fallback_status_handled";

    public static IHostApplicationBuilder AddFluxFallbackTracing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HttpClientTraceInstrumentationOptions>()
            .Configure<IOptions<FluxOptions>>((tracing, flux) =>
            {
                var previous = tracing.EnrichWithHttpResponseMessage;
                tracing.EnrichWithHttpResponseMessage = (activity, response) =>
                {
                    previous?.Invoke(activity, response);
                    MarkHandledFallbackStatus(activity, response, flux.Value);
                };
            });
        return builder;
    }

    /// <summary>Runs before the span ends (the instrumentation's enrich callback), after it set the status.</summary>
    public static void MarkHandledFallbackStatus(Activity activity, HttpResponseMessage response, FluxOptions options)
    {
        if (response.RequestMessage is not { } request
            || !request.Options.TryGetValue(FluxCallState.Key, out var call)
            || !options.FallbackEnabled
            || !call.Request.AllowFallback
            || call.FellBack
            || !string.Equals(call.Model, options.Primary.Model, StringComparison.OrdinalIgnoreCase)
            || !options.EffectiveFallbackStatusCodes.Contains((int)response.StatusCode))
        {
            return;
        }

        var status = (int)response.StatusCode;
        activity.SetStatus(ActivityStatusCode.Unset);
        activity.SetTag("error.type", null);
        activity.AddEvent(new ActivityEvent(HandledEventName, tags: new ActivityTagsCollection
        {
            ["http.response.status_code"] = status,
            ["lumiku.flux.primary_model"] = call.Model,
            ["lumiku.flux.fallback_model"] = options.Fallback.Model,
            ["lumiku.flux.outcome"] = $"expected {status}: this job falls back to {options.Fallback.Model}",
        }));
    }
}
