using System.ComponentModel.DataAnnotations;

namespace Lumiku.Generation.Webhooks;

/// <summary>
/// <c>Webhooks</c> settings, read by the api (what a submit may ask for, the rotation overlap) and
/// the worker (how deliveries are sent and retried). In Development both allow flags default to on.
/// </summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string SectionName = "Webhooks";

    /// <summary>The schedule of retries after a failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h.</summary>
    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(24),
    ];

    /// <summary>Accept <c>http</c> webhook URLs (always on in Development).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Deliver to loopback, private, link-local and metadata addresses (always on in Development).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// Delays before each retry; empty means <see cref="DefaultRetrySchedule"/>. (An array, not a
    /// default-filled list: the configuration binder would append to a filled one.) Each gets ±10 % jitter.
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    /// <summary>How long one attempt may take, connect to last byte read.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a rotated-out secret keeps signing beside the new one.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>An outbox entry pending this long at a worker that stopped is taken over by another; above <see cref="Timeout"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00")]
    public TimeSpan ClaimAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Deliveries one worker sends at once. Each waits on Redis and the receiver, not the CPU: at 16 a
    /// worker completing 200-350 jobs/s fell seconds behind; at 64 it keeps up (docs/performance.md).
    /// </summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 64;

    /// <summary>How long a generation's delivery history stays readable after its last event settled.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(7);

    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule => RetrySchedule is { Length: > 0 } s ? s : DefaultRetrySchedule;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetrySchedule?.Any(d => d <= TimeSpan.Zero || d > TimeSpan.FromDays(7)) == true)
        {
            yield return new ValidationResult("Every Webhooks:RetrySchedule delay must be above zero and at most 7 days.", [nameof(RetrySchedule)]);
        }

        if (ClaimAfter <= Timeout)
        {
            yield return new ValidationResult("Webhooks:ClaimAfter must be longer than Webhooks:Timeout, or attempts still running are taken over.", [nameof(ClaimAfter)]);
        }
    }
}
