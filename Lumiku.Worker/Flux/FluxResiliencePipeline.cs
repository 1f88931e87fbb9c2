using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The Flux client's two resilience handlers: the job's own (total timeout, then the fallback
/// strategy) around the standard resilience handler, sized for image generation from
/// <see cref="FluxResilienceOptions"/>. The order, outermost first, and why: see README.md in this folder.
/// </summary>
public static class FluxResiliencePipeline
{
    /// <summary>The job handler's pipeline identifier (the registry names it <c>IFluxClient-flux</c>).</summary>
    public const string Name = "flux";

    /// <summary>
    /// The outer handler: one total timeout for the whole job, fallback and failover included, the fallback
    /// strategy (its one FLUX.1-schnell request goes down through the failover), and the provider failover,
    /// which sends the same model to the next provider down through the standard handler.
    /// </summary>
    public static void ConfigureJob(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        // Rebuilt when Flux options change.
        context.EnableReloads<FluxOptions>();
        var services = context.ServiceProvider;
        var options = services.GetRequiredService<IOptionsMonitor<FluxOptions>>().CurrentValue;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(FluxLog.Category);
        var telemetry = services.GetRequiredService<FluxTelemetry>();
        var fallback = FluxFallbackStrategyOptions.From(options);
        var failover = FluxFailoverStrategyOptions.From(options);

        builder
            .AddTimeout(new HttpTimeoutStrategyOptions { Name = "FluxJobTimeout", Timeout = options.Resilience.TotalTimeout })
            .AddStrategy(_ => new FluxFallbackStrategy(fallback, logger, telemetry), fallback)
            .AddStrategy(_ => new FluxFailoverStrategy(failover, logger, telemetry), failover);
    }

    /// <summary>
    /// The standard handler's options for one model request: its attempt timeout, retry (waiting what
    /// the provider asks), circuit breaker and per-model total timeout; the rate limiter keeps the
    /// standard default (1,000 concurrent calls, no queue).
    /// </summary>
    public static void ConfigureStandard(HttpStandardResilienceOptions standard, IServiceProvider services)
    {
        var resilience = services.GetRequiredService<IOptionsMonitor<FluxOptions>>().CurrentValue.Resilience;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(FluxLog.Category);
        var time = services.GetRequiredService<TimeProvider>();
        var retries = resilience.MaxRetryAttempts > 0;

        standard.TotalRequestTimeout.Timeout = resilience.ModelTimeout;
        standard.AttemptTimeout.Timeout = resilience.AttemptTimeout;

        var retry = standard.Retry;
        // The strategy always exists in the standard handler; with 0 configured retries it handles nothing.
        retry.MaxRetryAttempts = Math.Max(1, resilience.MaxRetryAttempts);
        retry.ShouldHandle = args => ValueTask.FromResult(retries && IsTransient(args.Outcome));
        retry.Delay = resilience.RetryDelay;
        retry.MaxDelay = resilience.MaxServerDelay;
        retry.BackoffType = DelayBackoffType.Exponential;
        retry.UseJitter = true;
        retry.DelayGenerator = args => FluxRetryDelay.GetAsync(args.Outcome, resilience.MaxServerDelay, time, args.Context.CancellationToken);
        retry.OnRetry = args =>
        {
            LogRetry(logger, args);
            return ValueTask.CompletedTask;
        };

        var breaker = standard.CircuitBreaker;
        // Counts attempts, and only transient failures: a FLUX.1-dev 400 on every free-tier job never opens it.
        breaker.ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome));
        breaker.FailureRatio = resilience.CircuitBreakerFailureRatio;
        breaker.MinimumThroughput = resilience.CircuitBreakerMinimumThroughput;
        breaker.SamplingDuration = resilience.CircuitBreakerSamplingDuration;
        breaker.BreakDuration = resilience.CircuitBreakerBreakDuration;
    }

    /// <summary>
    /// What the retry retries and the breaker counts: 408, 429, 5xx, connection failures (a body that
    /// broke off included) and attempt timeouts (a stalled body included). Never a 400 or another 4xx.
    /// </summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500,
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        _ => false,
    };

    private static void LogRetry(ILogger logger, OnRetryArguments<HttpResponseMessage> args)
    {
        var call = args.Context.Properties.TryGetValue(FluxCallState.ContextKey, out var state) ? state : null;
        var model = call is null ? "(unknown model)" : $"{call.Model} on {call.Provider.Name}";
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
