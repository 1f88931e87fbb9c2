using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>The router's per-token fixed-window rate limit: <see cref="EmulatorOptions.RateLimitRequests"/> per window.</summary>
public sealed class FixedWindowRateLimit(IOptionsMonitor<EmulatorOptions> options, EmulatorClock clock)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private int _count;

    /// <summary>Counts one request; returns the time until the window resets when it is over the limit, else null.</summary>
    public TimeSpan? TryAcquire()
    {
        var current = options.CurrentValue;
        var limit = current.RateLimitRequests;
        if (limit <= 0)
        {
            return null;
        }

        var window = current.RateLimitWindow;
        var now = clock.Time.GetUtcNow();
        lock (_gate)
        {
            if (now >= _windowStart + window)
            {
                _windowStart = now;
                _count = 0;
            }

            _count++;
            return _count > limit ? _windowStart + window - now : null;
        }
    }
}
