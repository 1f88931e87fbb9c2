using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>Models "load" for <see cref="EmulatorOptions.ColdStart"/> after their first request, like a scaled-to-zero endpoint.</summary>
public sealed class ColdStarts(IOptionsMonitor<EmulatorOptions> options, EmulatorClock clock)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Time left until <paramref name="model"/> is loaded; zero once warm.</summary>
    public TimeSpan Remaining(string model)
    {
        // No cold start configured: warm at once. (Without this, concurrent first requests raced: one
        // read its clock before another stored a later first-seen time, and was answered "loading".)
        var coldStart = options.CurrentValue.ColdStart;
        if (coldStart <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var now = clock.Time.GetUtcNow();
        var loaded = _firstSeen.GetOrAdd(model, now) + coldStart;
        return loaded > now ? loaded - now : TimeSpan.Zero;
    }
}
