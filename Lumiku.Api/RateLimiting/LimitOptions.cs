using System.ComponentModel.DataAnnotations;

namespace Lumiku.Api.RateLimiting;

/// <summary>Section <c>Limits</c>: per-user caps kept in Redis, so they hold across api replicas.</summary>
public sealed class LimitOptions
{
    public const string SectionName = "Limits";

    /// <summary>Jobs one user may have queued or processing at once; one more answers 429.</summary>
    [Range(1, 10_000)]
    public int MaxUnfinishedJobs { get; set; } = 8;

    /// <summary>The Retry-After of a submission refused by <see cref="MaxUnfinishedJobs"/> (when a job ends is not known).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan UnfinishedRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Event streams (SSE, one Redis subscription each) one user may hold open at once.</summary>
    [Range(1, 1_000)]
    public int MaxEventStreams { get; set; } = 10;
}
