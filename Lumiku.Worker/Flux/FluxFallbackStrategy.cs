using System.Diagnostics;
using Polly;

namespace Lumiku.Worker.Flux;

/// <summary>
/// A 400 from FLUX.1-dev (no PRO access, or a refused parameter) becomes exactly one request for
/// FLUX.1-schnell, sent through the rest of the pipeline, so it gets the same retries, breaker and
/// attempt timeout. Anything else (a 400 from schnell, any other failure of dev) passes through.
/// The switch is visible: a log event with dev's error body, a span event and a metric.
/// </summary>
public sealed class FluxFallbackStrategy(FluxFallbackStrategyOptions options, ILogger logger, FluxTelemetry telemetry) : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback,
        ResilienceContext context,
        TState state)
    {
#pragma warning disable EXTEXP0001 // Experimental, but it is how a strategy reads and swaps the request the rest of the pipeline sends.
        var primary = context.GetRequestMessage();
#pragma warning restore EXTEXP0001
        FluxCallState? call = null;
        if (primary?.Options.TryGetValue(FluxCallState.Key, out call) == true)
        {
            context.Properties.Set(FluxCallState.ContextKey, call!);
        }

        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        if (call is null || primary is null || outcome.Result is not { } response || !ShouldFallBack(call, response))
        {
            return outcome;
        }

        var error = await ProviderError.ReadAsync(response, call.Model, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        response.Dispose();
        FluxLog.FallingBack(logger, call.Model, error.Status, error.Reason, error.Message, error.RequestId, call.Attempt, options.Fallback.Model);
        Activity.Current?.AddEvent(new ActivityEvent(FluxTelemetry.FallbackEventName, tags: new ActivityTagsCollection
        {
            ["lumiku.flux.primary_model"] = call.Model,
            ["lumiku.flux.fallback_model"] = options.Fallback.Model,
            ["http.response.status_code"] = error.Status,
            ["lumiku.flux.primary_error"] = error.Message,
            ["lumiku.flux.request_id"] = error.RequestId,
        }));
        telemetry.Fallbacks.Add(
            1,
            new KeyValuePair<string, object?>("lumiku.flux.primary_model", call.Model),
            new KeyValuePair<string, object?>("http.response.status_code", error.Status));

        var fallback = FluxRequestBuilder.CreateFallback(primary, call, options.Fallback);
        FluxLog.Requesting(logger, options.Fallback.Model, options.Fallback.Steps, options.Fallback.GuidanceScale, call.Request.Width, call.Request.Height, call.Request.Seed);
        call.FallbackMessage = fallback;
        call.FellBack = true;
        call.PrimaryError = error;
        call.Model = options.Fallback.Model;
        call.Attempt = 1;
#pragma warning disable EXTEXP0001 // See above: the inner strategies and the HTTP send pick the request up from the context.
        context.SetRequestMessage(fallback);
#pragma warning restore EXTEXP0001
        return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    private bool ShouldFallBack(FluxCallState call, HttpResponseMessage response) =>
        options.Enabled
        && call.Request.AllowFallback
        && !call.FellBack
        && string.Equals(call.Model, options.PrimaryModel, StringComparison.OrdinalIgnoreCase)
        && options.StatusCodes.Contains((int)response.StatusCode);
}
