using Lumiku.Generation;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Keeps this worker's in-flight entries claimed: every third of <see cref="WorkerOptions.VisibilityTimeout"/>
/// it resets their idle time in the pending list (see <see cref="GenerationStore.RefreshClaimsAsync"/>), so
/// a job kept busy by slow provider calls or local retries is never taken over by another worker and
/// generated twice. Only a dead worker's entries grow idle enough for <see cref="AbandonedEntryTakeover"/>.
/// </summary>
public sealed partial class ClaimRefresher(GenerationStore store, InFlightEntries inFlight, IOptions<WorkerOptions> options, TimeProvider time, ILogger<ClaimRefresher> logger)
    : BackgroundService
{
    private const int Batch = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.VisibilityTimeout / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RefreshAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round over the entries in flight now.</summary>
    private async Task RefreshAsync()
    {
        var refreshed = 0;
        try
        {
            foreach (var chunk in inFlight.Snapshot().Chunk(Batch))
            {
                refreshed += await store.RefreshClaimsAsync(inFlight.Consumer, chunk).ConfigureAwait(false);
            }

            LogRefreshed(refreshed);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogRefreshFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refreshed the claim on {Count} in-flight entries")]
    private partial void LogRefreshed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the claims on in-flight entries failed; trying again next round")]
    private partial void LogRefreshFailed(Exception exception);
}
