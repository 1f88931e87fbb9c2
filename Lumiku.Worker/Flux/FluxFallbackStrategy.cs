using System.Diagnostics;
using Polly;

namespace Lumiku.Worker.Flux;

/// <summary>
/// When no provider delivered FLUX.1-dev and one of them refused it with a fallback status (400: no PRO
/// access, or a refused parameter), exactly one FLUX.1-schnell request goes to the first provider that
/// serves schnell, down through the failover and the rest of the pipeline, so it gets the same
/// failover, retries, breaker and attempt timeout. Anything else (a 400 from schnell, a transient
/// failure of dev everywhere, a LoRA request) passes through.
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
        if (call is null || context.CancellationToken.IsCancellationRequested || !ShouldFallBack(call, outcome))
        {
            return outcome;
        }

        var next = call.Providers.Next(0, options.Fallback.Model, lora: false, call.Request.OnlyProvider);
        if (next < 0)
        {
            return outcome;
        }

        var error = outcome.Result is { } response && options.StatusCodes.Contains((int)response.StatusCode)
            ? await ProviderError.ReadAsync(response, call.Model, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext)
            : call.FallbackTrigger!;
        outcome.Result?.Dispose();
        FluxLog.FallingBack(logger, call.Model, error.Status, error.Reason, error.Message, error.RequestId, call.Attempt, options.Fallback.Model);
        Activity.Current?.AddEvent(new ActivityEvent(FluxTelemetry.FallbackEventName, tags: new ActivityTagsCollection
        {
            ["lumiku.flux.primary_model"] = call.Model,
            ["lumiku.flux.fallback_model"] = options.Fallback.Model,
            ["lumiku.flux.provider"] = call.Provider.Name,
            ["http.response.status_code"] = error.Status,
            ["lumiku.flux.primary_error"] = error.Message,
            ["lumiku.flux.request_id"] = error.RequestId,
        }));
        telemetry.Fallbacks.Add(
            1,
            new KeyValuePair<string, object?>("lumiku.flux.primary_model", call.Model),
            new KeyValuePair<string, object?>("http.response.status_code", error.Status));

#pragma warning disable EXTEXP0001 // See above: the inner strategies and the HTTP send pick the request up from the context.
        var current = context.GetRequestMessage() ?? primary!;
#pragma warning restore EXTEXP0001
        var previousRoute = call.Route;
        call.FellBack = true;
        call.PrimaryError = error;
        call.Model = options.Fallback.Model;
        call.ProviderIndex = next;
        call.Attempt = 1;
        var fallback = FluxRequestBuilder.CreateSwitch(current, previousRoute, call, options.Fallback);
        FluxLog.Requesting(logger, options.Fallback.Model, options.Fallback.Steps, options.Fallback.GuidanceScale, call.Request.Width, call.Request.Height, call.Request.Seed);
#pragma warning disable EXTEXP0001
        context.SetRequestMessage(fallback);
#pragma warning restore EXTEXP0001
        return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    private bool ShouldFallBack(FluxCallState call, Outcome<HttpResponseMessage> outcome) =>
        options.Enabled
        && call.Request.AllowFallback
        && call.Request.Lora is null
        && !call.FellBack
        && string.Equals(call.Model, options.PrimaryModel, StringComparison.OrdinalIgnoreCase)
        && outcome.Result is not { IsSuccessStatusCode: true }
        && ((outcome.Result is { } response && options.StatusCodes.Contains((int)response.StatusCode)) || call.FallbackTrigger is not null);
}
