using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Every <see cref="WorkerOptions.DelayedPollInterval"/>, runs one due-items script in batches until a
/// batch comes back short. Each batch is one atomic script, so every worker may run it at once and a
/// worker crash loses nothing; a Redis error is logged and the next round tries again.
/// </summary>
public abstract class DueBatchService(IOptions<WorkerOptions> options, TimeProvider time) : BackgroundService
{
    protected const int Batch = 100;

    /// <summary>One batch: how many items it handled (at most <see cref="Batch"/>).</summary>
    protected abstract Task<int> RunBatchAsync();

    protected abstract void OnHandled(int count);

    protected abstract void OnFailed(string reason);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DelayedPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    int handled;
                    do
                    {
                        handled = await RunBatchAsync().ConfigureAwait(false);
                        if (handled > 0)
                        {
                            OnHandled(handled);
                        }
                    }
                    while (handled == Batch);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    OnFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
