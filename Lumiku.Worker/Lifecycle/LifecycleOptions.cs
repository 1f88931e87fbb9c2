using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Lifecycle;

/// <summary>Section <c>Retention</c>: how long what is no longer live stays, and how often the sweeps look.</summary>
public sealed class LifecycleOptions
{
    public const string SectionName = "Retention";

    /// <summary>Failed and canceled generations are deleted this many days after they ended.</summary>
    [Range(1, 3650)]
    public int FailedDays { get; set; } = 30;

    /// <summary>An image no committed record points to is deleted once it is this old (a job's image is stored just before its record commits).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan OrphanImageGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The dead-letter stream is trimmed to about this many entries (XTRIM MAXLEN ~).</summary>
    [Range(100, 10_000_000)]
    public int DeadLetterMaxLength { get; set; } = 10_000;

    /// <summary>How often each sweep runs (one replica per round, by a Redis lock).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan FailedRetention => TimeSpan.FromDays(FailedDays);
}
