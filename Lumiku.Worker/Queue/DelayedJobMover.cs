using Lumiku.Generation;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Every <see cref="WorkerOptions.DelayedPollInterval"/>, re-adds delayed jobs that are due to the stream
/// (see <see cref="GenerationStore.PromoteDueAsync"/>). The set lives in Redis and each move is one
/// script, so a worker crash loses no delayed job and every worker may run the mover at once.
/// </summary>
public sealed partial class DelayedJobMover(GenerationStore store, IOptions<WorkerOptions> options, TimeProvider time, ILogger<DelayedJobMover> logger) : BackgroundService
{
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DelayedPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    int moved;
                    do
                    {
                        moved = await store.PromoteDueAsync(Batch).ConfigureAwait(false);
                        if (moved > 0)
                        {
                            LogMoved(moved);
                        }
                    }
                    while (moved == Batch);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    LogMoveFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Re-added {Count} delayed jobs to the stream")]
    private partial void LogMoved(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Moving due delayed jobs failed: {Reason}; trying again next round")]
    private partial void LogMoveFailed(string reason);
}
