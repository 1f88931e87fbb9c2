using Lumiku.Generation;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Every <see cref="WorkerOptions.DelayedPollInterval"/>, aborts and refunds jobs still queued past
/// their Cancel-After deadline (see <see cref="GenerationStore.AbortDueAsync"/>), so a job behind a slow
/// queue ends on time even though no worker reads it. The Start script aborts an entry it reads past its
/// deadline too; both check the status atomically, so every worker may sweep at once.
/// </summary>
public sealed partial class DeadlineSweeper(GenerationStore store, IOptions<WorkerOptions> options, TimeProvider time, ILogger<DeadlineSweeper> logger) : BackgroundService
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
                    int aborted;
                    do
                    {
                        aborted = await store.AbortDueAsync(Batch).ConfigureAwait(false);
                        if (aborted > 0)
                        {
                            LogAborted(aborted);
                        }
                    }
                    while (aborted == Batch);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    LogSweepFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Aborted {Count} queued jobs past their Cancel-After deadline; refunded")]
    private partial void LogAborted(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Aborting jobs past their deadline failed: {Reason}; trying again next round")]
    private partial void LogSweepFailed(string reason);
}
