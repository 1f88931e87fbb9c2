using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Samples the stream's length, pending entries, consumer lag and dead letters every few seconds
/// for the worker's observable gauges. Sampling happens here, not in the gauge callbacks, so a
/// metrics export never waits on Redis.
/// </summary>
public sealed partial class QueueGauges(IConnectionMultiplexer redis, WorkerTelemetry telemetry, IOptions<WorkerOptions> options, TimeProvider time, ILogger<QueueGauges> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.GaugeInterval, time);
        do
        {
            try
            {
                var db = redis.GetDatabase();
                var length = db.StreamLengthAsync(RedisKeys.Stream);
                var dead = db.StreamLengthAsync(RedisKeys.DeadLetterStream);
                var groups = db.StreamGroupInfoAsync(RedisKeys.Stream);
                await Task.WhenAll(length, dead, groups).ConfigureAwait(false);
                var group = groups.Result.FirstOrDefault(g => g.Name == RedisKeys.ConsumerGroup);
                telemetry.UpdateQueue(length.Result, group.PendingMessageCount, group.Lag ?? 0, dead.Result);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // No stream yet (ERR no such key) or Redis briefly away: keep the last sample.
                LogSampleFailed(e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sampling the queue gauges failed: {Reason}")]
    private partial void LogSampleFailed(string reason);
}
