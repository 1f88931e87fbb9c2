using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The Flux client's one resilience pipeline: the standard handler's strategies, sized from
/// <see cref="FluxResilienceOptions"/>, with the fallback between the total timeout and the retry.
/// The order, outermost first, and why: see README.md in this folder.
/// </summary>
public static class FluxResiliencePipeline
{
    public const string Name = "flux";

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        // Rebuilt when Flux options change, like the standard handler does with its own.
        context.EnableReloads<FluxOptions>();
        var services = context.ServiceProvider;
        var options = services.GetRequiredService<IOptionsMonitor<FluxOptions>>().CurrentValue;
        var resilience = options.Resilience;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(FluxLog.Category);
        var telemetry = services.GetRequiredService<FluxTelemetry>();
        var time = services.GetRequiredService<TimeProvider>();
        var fallback = FluxFallbackStrategyOptions.From(options);

        builder
            // 1. Concurrency limiter, the standard default: sheds load before anything waits.
            .AddRateLimiter(new HttpRateLimiterStrategyOptions { Name = "FluxRateLimiter" })
            // 2. Total timeout: one bound for everything a job spends on the provider, fallback included.
            .AddTimeout(new HttpTimeoutStrategyOptions { Name = "FluxTotalTimeout", Timeout = resilience.TotalTimeout })
            // 3. Fallback: sees the primary's final answer (a 400 is never retried, so that is at once).
            .AddStrategy(_ => new FluxFallbackStrategy(fallback, logger, telemetry), fallback);

        if (resilience.MaxRetryAttempts > 0)
        {
            // 4. Retry: per model, so the fallback request gets its own retries.
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                Name = "FluxRetry",
                MaxRetryAttempts = resilience.MaxRetryAttempts,
                Delay = resilience.RetryDelay,
                MaxDelay = resilience.MaxServerDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                DelayGenerator = args => FluxRetryDelay.GetAsync(args.Outcome, resilience.MaxServerDelay, time, args.Context.CancellationToken),
                OnRetry = args =>
                {
                    LogRetry(logger, args);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder
            // 5. Circuit breaker: counts attempts (5xx, 429, timeouts; never a 400), so free-tier fallbacks do not trip it.
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                Name = "FluxCircuitBreaker",
                FailureRatio = resilience.CircuitBreakerFailureRatio,
                MinimumThroughput = resilience.CircuitBreakerMinimumThroughput,
                SamplingDuration = resilience.CircuitBreakerSamplingDuration,
                BreakDuration = resilience.CircuitBreakerBreakDuration,
            })
            // 6. Attempt timeout: innermost, so a hung attempt is cut and retried.
            .AddTimeout(new HttpTimeoutStrategyOptions { Name = "FluxAttemptTimeout", Timeout = resilience.AttemptTimeout });
    }

    private static void LogRetry(ILogger logger, OnRetryArguments<HttpResponseMessage> args)
    {
        var call = args.Context.Properties.TryGetValue(FluxCallState.ContextKey, out var state) ? state : null;
        var model = call?.Model ?? "(unknown model)";
        var failedAttempt = args.AttemptNumber + 1;
        if (call is not null)
        {
            call.Attempt = failedAttempt + 1;
        }

        if (args.Outcome.Result is { } response)
        {
            var error = call?.LastError;
            FluxLog.AttemptFailed(logger, model, failedAttempt, (int)response.StatusCode, response.ReasonPhrase, error?.Message ?? "(body not read)", error?.RequestId, args.RetryDelay);
        }
        else if (args.Outcome.Exception is { } exception)
        {
            var (_, _, message) = FluxErrorClassifier.Classify(exception);
            FluxLog.AttemptFailedWithException(logger, model, failedAttempt, exception.GetType().Name, message, args.RetryDelay);
        }
    }
}
