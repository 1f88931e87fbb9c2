using System.Diagnostics;
using Polly;
using Polly.CircuitBreaker;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Provider failover: when a provider answers a failover status (402, 403, 404, 410, and a fallback status
/// such as dev's 400: that provider will not serve this model to this account) or fails transiently after
/// its own retries (5xx, 429, timeouts, an open breaker), the same model is asked of the next provider in
/// <c>Flux:Providers</c> that has an id for it. Sits inside the fallback, so dev is asked of every provider
/// before schnell is. Every switch: a log event, a span event and a metric with provider, model, status and error.
/// </summary>
public sealed class FluxFailoverStrategy(FluxFailoverStrategyOptions options, ILogger logger, FluxTelemetry telemetry) : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback,
        ResilienceContext context,
        TState state)
    {
        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        while (context.Properties.TryGetValue(FluxCallState.ContextKey, out var call)
            && !context.CancellationToken.IsCancellationRequested
            && ShouldFailOver(outcome)
            && call.Providers.Next(call.ProviderIndex + 1, call.Repo, call.Request.Lora is not null, call.Request.OnlyProvider) is var next and >= 0)
        {
            var from = call.Provider.Name;
            ProviderError? error = null;
            if (outcome.Result is { } response)
            {
                error = await ProviderError.ReadAsync(response, call.Model, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                response.Dispose();
                if (options.FallbackStatusCodes.Contains(error.Status) && !call.FellBack)
                {
                    call.FallbackTrigger ??= error;
                }
            }

            var status = error?.Status;
            var message = error?.Message ?? FluxErrorClassifier.Classify(outcome.Exception!).Message;
            var to = call.Providers[next].Name;
            FluxLog.FailingOver(logger, from, call.Model, status, message, error?.RequestId, to);
            Activity.Current?.AddEvent(new ActivityEvent(FluxTelemetry.FailoverEventName, tags: new ActivityTagsCollection
            {
                ["lumiku.flux.provider"] = from,
                ["lumiku.flux.next_provider"] = to,
                ["lumiku.flux.model"] = call.Model,
                ["http.response.status_code"] = status,
                ["lumiku.flux.provider_error"] = message,
            }));
            telemetry.Failovers.Add(
                1,
                new KeyValuePair<string, object?>("lumiku.flux.provider", from),
                new KeyValuePair<string, object?>("lumiku.flux.next_provider", to),
                new KeyValuePair<string, object?>("lumiku.flux.model", call.Model),
                new KeyValuePair<string, object?>("http.response.status_code", status),
                new KeyValuePair<string, object?>("error.type", status is null ? outcome.Exception!.GetType().Name : null));

#pragma warning disable EXTEXP0001 // Experimental, but it is how a strategy reads and swaps the request the rest of the pipeline sends.
            var previous = context.GetRequestMessage()!;
            var previousRoute = call.Route;
            call.ProviderIndex = next;
            call.Attempt = 1;
            context.SetRequestMessage(FluxRequestBuilder.CreateSwitch(previous, previousRoute, call, options.ProfileFor(call.Model)));
#pragma warning restore EXTEXP0001
            outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        return outcome;
    }

    private bool ShouldFailOver(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { IsSuccessStatusCode: true } } => false,
        { Result: { } response } => options.StatusCodes.Contains((int)response.StatusCode)
            || options.FallbackStatusCodes.Contains((int)response.StatusCode)
            || FluxResiliencePipeline.IsTransient(outcome),
        { Exception: BrokenCircuitException } => true,
        _ => FluxResiliencePipeline.IsTransient(outcome),
    };
}
