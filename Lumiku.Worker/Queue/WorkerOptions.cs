using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Queue;

/// <summary>Section <c>Worker</c>: how the stream consumer reads and retries.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Jobs in flight at once in this process.</summary>
    [Range(1, 4096)]
    public int Concurrency { get; set; } = 32;

    /// <summary>This consumer's name in the group; defaults to host name and process id.</summary>
    public string? ConsumerName { get; set; }

    /// <summary>
    /// An entry pending this long without its worker refreshing the claim is taken over by another
    /// consumer (XAUTOCLAIM). A live worker refreshes its in-flight entries every third of it
    /// (<see cref="ClaimRefresher"/>), so only a dead worker's jobs are taken over.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(6);

    /// <summary>Deliveries before an entry goes to the dead-letter stream (and its credits back).</summary>
    [Range(1, 100)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>
    /// First wait before a step of a job that hit an unexpected error (Redis unreachable, a failed image
    /// write) is tried again in place, that step alone (the provider is not asked again); doubled per
    /// try up to 30 s. A step that fails <see cref="MaxDeliveries"/> times dead-letters and refunds the
    /// job within seconds. Also the first wait between tries to reach Redis at start.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often to look for entries abandoned by crashed consumers.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest idle poll interval; a pub/sub nudge from the api wakes the loop sooner.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The consume loop counts as stalled (health: unhealthy) after this long without a beat.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StallThreshold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long after submit a job may keep waiting for a provider that says "later" (429, 503, a
    /// timeout, an open circuit breaker); past it the job fails and is refunded.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan JobDeadline { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// First wait before a job the provider turned away (429, 503, a timeout, after the client's own
    /// retries) is tried again, when the provider named no wait of its own; doubled per deferral up to
    /// <see cref="MaxDeferDelay"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan DeferDelay { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxDeferDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the mover looks for delayed jobs that are due (any number of workers may run it).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan DelayedPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often acknowledged entries are trimmed from the stream.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the queue gauges (length, pending, lag, dead letters) are sampled.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A consumer with no pending entries idle this long is removed from the group (a worker that is gone; see ConsumerSweep).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan ConsumerIdleRemoval { get; set; } = TimeSpan.FromHours(1);

    public string ResolveConsumerName() =>
        string.IsNullOrWhiteSpace(ConsumerName) ? $"{Environment.MachineName}-{Environment.ProcessId}" : ConsumerName;
}
