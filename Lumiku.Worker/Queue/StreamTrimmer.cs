using Lumiku.Generation;
using Lumiku.Generation.Webhooks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Now and then, trims the job stream and the webhook outbox of entries every consumer is done with
/// (see <see cref="GenerationStore.TrimAcknowledgedAsync"/>).
/// </summary>
public sealed partial class StreamTrimmer(GenerationStore store, WebhookStore webhooks, IOptions<WorkerOptions> options, TimeProvider time, ILogger<StreamTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TrimInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var trimmed = await store.TrimAcknowledgedAsync().ConfigureAwait(false)
                        + await webhooks.TrimAcknowledgedAsync().ConfigureAwait(false);
                    if (trimmed > 0)
                    {
                        LogTrimmed(trimmed);
                    }
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    LogTrimFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Trimmed {Count} acknowledged entries from the job stream and the webhook outbox")]
    private partial void LogTrimmed(long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trimming the stream failed; trying again later")]
    private partial void LogTrimFailed(Exception exception);
}
