using System.Collections.Concurrent;
using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// The jobs running in this process by generation id, each with its own cancellation, and the
/// subscription to <see cref="RedisKeys.CancelChannel"/>: a user's cancel of a processing job (already
/// canceled and refunded by the script) stops its provider call here. A job is tracked before its Start
/// script runs, so a cancel published after the job became processing always finds it.
/// </summary>
public sealed partial class JobCancellations(
    IConnectionMultiplexer redis, IOptions<WorkerOptions> options, TimeProvider time, ILogger<JobCancellations> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>Tracks the job until disposed; its token ends on shutdown or on the user's cancel.</summary>
    public TrackedJob Track(string generationId, CancellationToken shutdown)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        _running[generationId] = source;
        return new TrackedJob(this, generationId, source, shutdown);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Redis away at start: keep trying (the multiplexer resubscribes by itself after that).
        for (var delay = options.Value.RetryDelay; !stoppingToken.IsCancellationRequested;)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(RedisKeys.CancelChannel, (_, message) => OnCancel((string?)message)).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogSubscribeFailed(e.Message);
                delay = TimeSpan.FromTicks(Math.Clamp(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));
                try
                {
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnCancel(string? generationId)
    {
        if (generationId is not null && _running.TryGetValue(generationId, out var source))
        {
            LogCanceling(generationId);
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The job ended meanwhile.
            }
        }
    }

    private void Untrack(string generationId, CancellationTokenSource source)
    {
        _running.TryRemove(new KeyValuePair<string, CancellationTokenSource>(generationId, source));
        source.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} canceled by its user while running here; stopping its provider call")]
    private partial void LogCanceling(string generationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to job cancellations failed: {Reason}; trying again")]
    private partial void LogSubscribeFailed(string reason);

    /// <summary>A job being tracked: <see cref="Token"/> for its steps, <see cref="CanceledByUser"/> once told.</summary>
    public sealed class TrackedJob(JobCancellations owner, string generationId, CancellationTokenSource source, CancellationToken shutdown) : IDisposable
    {
        public CancellationToken Token { get; } = source.Token;

        public bool CanceledByUser => source.IsCancellationRequested && !shutdown.IsCancellationRequested;

        public void Dispose() => owner.Untrack(generationId, source);
    }
}
