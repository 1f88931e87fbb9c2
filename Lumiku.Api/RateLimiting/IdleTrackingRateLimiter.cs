using System.Threading.RateLimiting;

namespace Lumiku.Api.RateLimiting;

/// <summary>
/// A per-user limiter that says how long it has been unused, so ASP.NET Core's partitioned limiter
/// can forget it. The limiter of a user is kept in a dictionary until its <see cref="IdleDuration"/>
/// passes 10 s; RedisRateLimiting's limiters answer <see cref="TimeSpan.Zero"/> forever, which kept
/// one limiter per user who ever submitted for the life of the process (and walked them all every
/// 100 ms). The permits live in Redis, so dropping the in-process object loses nothing.
/// </summary>
public sealed class IdleTrackingRateLimiter(RateLimiter inner, TimeProvider time) : RateLimiter
{
    private long _lastUsed = time.GetTimestamp();
    private int _acquiring;

    /// <summary>Time since the last acquire ended; null (not idle) while one is under way.</summary>
    public override TimeSpan? IdleDuration =>
        Volatile.Read(ref _acquiring) > 0 ? null : time.GetElapsedTime(Volatile.Read(ref _lastUsed));

    // The Redis limiters keep no statistics (theirs throws).
    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        try
        {
            return inner.AttemptAcquire(permitCount);
        }
        finally
        {
            Volatile.Write(ref _lastUsed, time.GetTimestamp());
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _acquiring);
        try
        {
            return await inner.AcquireAsync(permitCount, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _lastUsed, time.GetTimestamp());
            Interlocked.Decrement(ref _acquiring);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override ValueTask DisposeAsyncCore() => inner.DisposeAsync();
}
