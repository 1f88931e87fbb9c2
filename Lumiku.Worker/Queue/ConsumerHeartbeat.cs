using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Queue;

/// <summary>
/// The consume loop beats on every turn; the health check turns unhealthy when it stalls, and while
/// the loop is still waiting for Redis at start (unreachable or loading).
/// </summary>
public sealed class ConsumerHeartbeat(TimeProvider time, IOptions<WorkerOptions> options) : IHealthCheck
{
    private long _lastBeatTicks = time.GetUtcNow().UtcTicks;
    private volatile bool _started;
    private volatile string? _waitingForRedis;

    public void Beat()
    {
        _started = true;
        Interlocked.Exchange(ref _lastBeatTicks, time.GetUtcNow().UtcTicks);
    }

    /// <summary>The loop could not reach Redis yet (<paramref name="reason"/>) and keeps trying.</summary>
    public void WaitingForRedis(string reason) => _waitingForRedis = reason;

    public void Connected() => _waitingForRedis = null;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_waitingForRedis is { } reason)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Waiting for Redis: {reason}"));
        }

        var since = time.GetUtcNow() - new DateTimeOffset(Interlocked.Read(ref _lastBeatTicks), TimeSpan.Zero);
        if (!_started)
        {
            return Task.FromResult(since > options.Value.StallThreshold
                ? HealthCheckResult.Unhealthy("The consume loop has not started.")
                : HealthCheckResult.Degraded("The consume loop is starting."));
        }

        return Task.FromResult(since > options.Value.StallThreshold
            ? HealthCheckResult.Unhealthy($"The consume loop has not turned for {since.TotalSeconds:F0} s.")
            : HealthCheckResult.Healthy());
    }
}
