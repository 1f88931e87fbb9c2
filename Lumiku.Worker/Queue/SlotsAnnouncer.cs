using Lumiku.Generation;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Announces this worker's job slots (<see cref="WorkerOptions.Concurrency"/>) in Redis every few
/// seconds, valid for three rounds, so the api's start estimate divides by the slots of live workers
/// only; withdrawn when the worker stops (a crashed worker's expire).
/// </summary>
public sealed partial class SlotsAnnouncer(
    GenerationStore store, InFlightEntries inFlight, IOptions<WorkerOptions> options, TimeProvider time, ILogger<SlotsAnnouncer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    await store.AnnounceSlotsAsync(inFlight.Consumer, options.Value.Concurrency, time.GetUtcNow() + (3 * Interval)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    LogAnnounceFailed(e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        try
        {
            await store.WithdrawSlotsAsync(inFlight.Consumer).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogAnnounceFailed(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Announcing the worker's job slots failed: {Reason}; trying again next round")]
    private partial void LogAnnounceFailed(string reason);
}
