using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Lumiku.Tests.Flux;

/// <summary>Runs work whose waits (retry delays, timeouts, the emulator's cold start) sit on a fake clock.</summary>
public static class FakeClock
{
    /// <summary>
    /// Advances <paramref name="time"/> in small steps until <paramref name="work"/> completes, so a
    /// 20-second provider wait takes milliseconds. Advancing early only delays a timer that is not yet
    /// registered, so the emulator's counts still prove how long the client waited.
    /// </summary>
    public static async Task<T> RunAsync<T>(this FakeTimeProvider time, Func<Task<T>> work, TimeSpan? step = null)
    {
        var task = work();
        var guard = Stopwatch.StartNew();
        while (!task.IsCompleted)
        {
            time.Advance(step ?? TimeSpan.FromMilliseconds(200));
            await Task.WhenAny(task, Task.Delay(2, TestContext.Current.CancellationToken));
            if (guard.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("The work did not finish within 60 s of real time.");
            }
        }

        return await task;
    }

    public static FakeTimeProvider Create() => new(new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero));
}
