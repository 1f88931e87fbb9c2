using System.ComponentModel.DataAnnotations;

namespace Lumiku.Api.RateLimiting;

/// <summary>Section <c>RateLimits</c>: how many generations one user may submit, and lists read, per window (counted in Redis).</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Submissions (POST /v1/generations, valid or not) allowed per user per window.</summary>
    [Range(1, 1_000_000)]
    public int SubmissionsPerWindow { get; set; } = 10;

    /// <summary>List reads (GET /v1/generations, /v1/avatars, /v1/credits/ledger) allowed per user per window.</summary>
    [Range(1, 1_000_000)]
    public int ListReadsPerWindow { get; set; } = 120;

    /// <summary>The fixed window the permits refill in.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
