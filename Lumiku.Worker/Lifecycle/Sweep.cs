using Lumiku.Generation;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Lifecycle;

/// <summary>
/// A periodic cleanup: every <see cref="LifecycleOptions.SweepInterval"/> one worker replica takes the
/// sweep's Redis lock (SET NX PX) and runs a round; the others skip it. Every step is idempotent too, so
/// a round that outlives its lock and meets another only repeats no-ops. What a round removed is
/// counted in <c>lumiku.sweep.removed</c> (tag <c>sweep</c>).
/// </summary>
public abstract partial class Sweep(GenerationStore store, IOptions<LifecycleOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger logger)
    : BackgroundService
{
    /// <summary>The sweep's name: its lock, its metric tag, its log lines.</summary>
    public abstract string Name { get; }

    protected GenerationStore Store { get; } = store;

    protected LifecycleOptions Options { get; } = options.Value;

    protected TimeProvider Time { get; } = time;

    /// <summary>One round without the lock (tests call it directly); returns how many things it removed.</summary>
    public abstract Task<long> SweepOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Options.SweepInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    // Held for most of an interval: the next tick anywhere finds it free again.
                    if (!await Store.TryLockAsync(Name, Options.SweepInterval * 0.8).ConfigureAwait(false))
                    {
                        continue;
                    }

                    var removed = await SweepOnceAsync(stoppingToken).ConfigureAwait(false);
                    if (removed > 0)
                    {
                        telemetry.SweepRemoved.Add(removed, new KeyValuePair<string, object?>("sweep", Name));
                        LogSwept(logger, Name, removed);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A sweep is housekeeping: whatever fails (Redis or the image store away, a bug) waits
                    // for the next round instead of stopping the worker that runs the jobs.
                    LogSweepFailed(logger, Name, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweep {Sweep} removed {Count}")]
    private static partial void LogSwept(ILogger logger, string sweep, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep {Sweep} failed; trying again next round")]
    private static partial void LogSweepFailed(ILogger logger, string sweep, Exception exception);
}
