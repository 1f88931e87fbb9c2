namespace Lumiku.Worker.Queue;

/// <summary>
/// Closes the consumer's intake for a while: while the provider's circuit breaker is open, reading
/// more jobs would only take them from workers that could run them. Jobs in flight are not affected.
/// </summary>
public sealed class IntakeGate(TimeProvider time)
{
    private long _closedUntilTicks;

    /// <summary>Keeps the intake closed until <paramref name="until"/> (never shortens an earlier close).</summary>
    public void CloseUntil(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        var current = Interlocked.Read(ref _closedUntilTicks);
        while (ticks > current)
        {
            var seen = Interlocked.CompareExchange(ref _closedUntilTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>How long to wait before looking again (at most a second, so the loop's heartbeat keeps beating); null when open.</summary>
    public TimeSpan? ClosedFor()
    {
        var left = new DateTimeOffset(Interlocked.Read(ref _closedUntilTicks), TimeSpan.Zero) - time.GetUtcNow();
        return left > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(left.Ticks, TimeSpan.TicksPerSecond)) : null;
    }
}
