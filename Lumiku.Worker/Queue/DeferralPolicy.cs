using Lumiku.Generation;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Queue;

/// <summary>
/// What happens to a job after a failure: a final provider failure fails it; a provider that said
/// "later" (429, 503, a timeout) puts it back to wait, honouring the wait the provider named, until
/// <see cref="WorkerOptions.JobDeadline"/>; an open circuit breaker (provider not asked) puts it back
/// at once and closes this worker's intake until the breaker may half-open. A local step that hit an
/// unexpected error is retried in place after <see cref="WorkerOptions.RetryDelay"/>, doubled per try.
/// </summary>
public sealed class DeferralPolicy(IOptions<WorkerOptions> options, IOptionsMonitor<FluxOptions> flux, TimeProvider time)
{
    public static readonly TimeSpan MaxStepRetryDelay = TimeSpan.FromSeconds(30);

    private readonly WorkerOptions _options = options.Value;

    /// <summary>Deliveries before the Start script dead-letters a job; also the tries a local step gets.</summary>
    public int MaxDeliveries => _options.MaxDeliveries;

    public Deferral Decide(GenerationRecord generation, FluxException failure)
    {
        var notAttempted = FluxErrorCodes.NotAttempted(failure.Code);
        if (!failure.Retryable && !notAttempted)
        {
            return Deferral.Fail(pastDeadline: false);
        }

        var now = time.GetUtcNow();
        var deadline = generation.CreatedAt + _options.JobDeadline;
        if (now >= deadline)
        {
            return Deferral.Fail(pastDeadline: true);
        }

        if (notAttempted)
        {
            return new Deferral(DeferralAction.RequeueNow, now, BreakerWait(failure));
        }

        var delay = failure.RetryAfter ?? Backoff(_options.DeferDelay, generation.Deferrals, _options.MaxDeferDelay);
        var due = now + delay;
        return new Deferral(DeferralAction.RetryLater, due < deadline ? due : deadline, TimeSpan.Zero);
    }

    /// <summary>Until the breaker may half-open: its own RetryAfter when the failure carries it, else its configured break.</summary>
    private TimeSpan BreakerWait(FluxException failure) =>
        failure.RetryAfter
        ?? (failure.InnerException is { } inner ? FluxErrorClassifier.RetryAfterOf(inner) : null)
        ?? flux.CurrentValue.Resilience.CircuitBreakerBreakDuration;

    /// <summary>The wait before trying a failed local step again, or null when it has failed <see cref="WorkerOptions.MaxDeliveries"/> times.</summary>
    public TimeSpan? StepRetryDelay(int failedTries) =>
        failedTries >= _options.MaxDeliveries ? null : Backoff(_options.RetryDelay, failedTries - 1, MaxStepRetryDelay);

    private static TimeSpan Backoff(TimeSpan first, int doublings, TimeSpan max)
    {
        var ticks = first.Ticks;
        for (var i = 0; i < doublings && ticks < max.Ticks; i++)
        {
            ticks *= 2;
        }

        return TimeSpan.FromTicks(Math.Min(ticks, max.Ticks));
    }
}

public enum DeferralAction
{
    /// <summary>Fail the job and refund it.</summary>
    Fail,

    /// <summary>Back to queued on the stream at once; this worker's intake closes for <see cref="Deferral.CloseIntakeFor"/>.</summary>
    RequeueNow,

    /// <summary>Back to queued in the delayed set until <see cref="Deferral.DueAt"/>.</summary>
    RetryLater,
}

/// <summary>A decision of the <see cref="DeferralPolicy"/>.</summary>
public readonly record struct Deferral(DeferralAction Action, DateTimeOffset DueAt, TimeSpan CloseIntakeFor, bool PastDeadline = false)
{
    public static Deferral Fail(bool pastDeadline) => new(DeferralAction.Fail, default, TimeSpan.Zero, pastDeadline);
}
