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
        var now = clock.Time.GetUtcNow();
        var loaded = _firstSeen.GetOrAdd(model, now) + options.CurrentValue.ColdStart;
        return loaded > now ? loaded - now : TimeSpan.Zero;
    }
}
