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
    /// An entry pending this long is taken over by another consumer (XAUTOCLAIM). Longer than the
    /// Flux client's total timeout, so a live worker never loses its job to another.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(6);

    /// <summary>Deliveries before an entry goes to the dead-letter stream (and its credits back).</summary>
    [Range(1, 100)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>
    /// First wait before a job that hit an unexpected error (Redis unreachable, a failed image write)
    /// is tried again in place; doubled per try up to 30 s. Every try that reaches Redis counts a
    /// delivery, so a job that keeps failing is dead-lettered and refunded within seconds, not after
    /// <see cref="MaxDeliveries"/> visibility timeouts.
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

    /// <summary>How long the worker stops reading after the provider circuit opened (the job is deferred, not failed).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ProviderBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often acknowledged entries are trimmed from the stream.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the queue gauges (length, pending, lag, dead letters) are sampled.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(5);

    public string ResolveConsumerName() =>
        string.IsNullOrWhiteSpace(ConsumerName) ? $"{Environment.MachineName}-{Environment.ProcessId}" : ConsumerName;
}
