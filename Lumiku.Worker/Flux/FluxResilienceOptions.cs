using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Section <c>Flux:Resilience</c>: the standard handler's strategies, sized for image generation,
/// where one attempt can take a minute or more.
/// </summary>
public sealed class FluxResilienceOptions
{
    /// <summary>One HTTP attempt; FLUX.1-dev at 1024x1024 under load takes well over the defaults' 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:30:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Everything one job spends on the provider, retries and fallback included (the outer handler);
    /// below <c>Worker:VisibilityTimeout</c> (6 min), so a live job is never taken over by another worker.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Everything one model request spends, its retries and their waits included (the standard
    /// handler's total request timeout). Below <see cref="TotalTimeout"/>: a primary that answers a
    /// fallback status does so within this, which leaves the fallback request the rest of the job's budget.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ModelTimeout { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>Retries per model after the first attempt (0: the retry strategy handles nothing).</summary>
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Base of the jittered exponential backoff when the provider gives no delay of its own.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Cap on delays the provider asks for (Retry-After, RateLimit t=, 503 estimated_time).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:30:00")]
    public TimeSpan MaxServerDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Share of failed attempts in the sampling window that opens the circuit. High on purpose:
    /// a provider failing 40 % of attempts still delivers through retries (the storm test), while
    /// one that is down fails nearly all of them.
    /// </summary>
    [Range(0.01, 1.0)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.8;

    /// <summary>Calls the window must hold before the breaker judges: a few slow calls never trip it.</summary>
    [Range(2, 100_000)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 20;

    /// <summary>The breaker's window; at least twice the attempt timeout so timed-out calls are still in it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "1.00:00:00")]
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromMinutes(5);

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
