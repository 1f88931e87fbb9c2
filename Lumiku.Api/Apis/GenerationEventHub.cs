using System.Collections.Concurrent;
using System.Threading.Channels;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Api.Apis;

/// <summary>
/// One Redis subscription per api process for every generation's events: a pattern on
/// <c>lumiku:events:*</c>, fanned out in process to the streams waiting on that generation (SSE and
/// <c>Prefer: wait</c>). A subscription per stream cost a SUBSCRIBE and an UNSUBSCRIBE round trip,
/// a channel on the server and a handler in the multiplexer each; here a stream costs a dictionary
/// entry. Also shares the queue-wide inputs of queued jobs' position estimates between streams, so a
/// queued stream's periodic look costs no Redis command of its own.
/// </summary>
public sealed class GenerationEventHub(IConnectionMultiplexer redis, GenerationStore store, TimeProvider time)
{
    /// <summary>How old the shared queue snapshot may be when a queued stream looks again.</summary>
    public static readonly TimeSpan SnapshotMaxAge = TimeSpan.FromMilliseconds(500);

    private static readonly RedisChannel Pattern = RedisChannel.Pattern(RedisKeys.EventsPrefix + "*");
    private readonly ConcurrentDictionary<string, Watch[]> _watches = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Task? _subscribed;
    private (Task<QueueSnapshot> Read, long At)? _snapshot;

    /// <summary>
    /// Start watching <paramref name="id"/>: once this returns, every event published for it wakes the
    /// watch, so a caller reads the record after it and misses nothing. Dispose to stop.
    /// </summary>
    public async Task<Watch> WatchAsync(string id)
    {
        await EnsureSubscribedAsync().ConfigureAwait(false);
        var watch = new Watch(this, id);
        lock (_gate)
        {
            _watches[id] = _watches.TryGetValue(id, out var others) ? [.. others, watch] : [watch];
        }

        return watch;
    }

    /// <summary>A queued job's position and start estimate from a queue snapshot at most <see cref="SnapshotMaxAge"/> old, shared by every stream.</summary>
    public async Task<QueueEstimate?> GetQueueEstimateAsync(GenerationRecord record)
    {
        if (record.Status != GenerationStatus.Queued)
        {
            return null;
        }

        Task<QueueSnapshot> read;
        lock (_gate)
        {
            if (_snapshot is not { } s || s.Read.IsFaulted || time.GetElapsedTime(s.At) > SnapshotMaxAge)
            {
                _snapshot = s = (store.GetQueueSnapshotAsync(), time.GetTimestamp());
            }

            read = s.Read;
        }

        return GenerationStore.Estimate(record, await read.ConfigureAwait(false));
    }

    private Task EnsureSubscribedAsync()
    {
        lock (_gate)
        {
            // A failed subscribe (Redis away) is tried again by the next stream; the multiplexer
            // re-subscribes by itself after a reconnect.
            if (_subscribed is null || _subscribed.IsFaulted || _subscribed.IsCanceled)
            {
                _subscribed = redis.GetSubscriber().SubscribeAsync(Pattern, (channel, _) => Wake(channel));
            }

            return _subscribed;
        }
    }

    private void Wake(RedisChannel channel)
    {
        var name = channel.ToString();
        if (name.Length > RedisKeys.EventsPrefix.Length && _watches.TryGetValue(name[RedisKeys.EventsPrefix.Length..], out var watches))
        {
            foreach (var watch in watches)
            {
                watch.Signal();
            }
        }
    }

    private void Remove(Watch watch)
    {
        lock (_gate)
        {
            if (_watches.TryGetValue(watch.Id, out var watches))
            {
                var rest = watches.Where(w => w != watch).ToArray();
                if (rest.Length == 0)
                {
                    _watches.TryRemove(watch.Id, out _);
                }
                else
                {
                    _watches[watch.Id] = rest;
                }
            }
        }
    }

    /// <summary>One stream's interest in one generation: a wake-up flag that events set (several coalesce into one, as each is only a hint).</summary>
    public sealed class Watch : IDisposable
    {
        private readonly GenerationEventHub _hub;
        private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });

        internal Watch(GenerationEventHub hub, string id)
        {
            _hub = hub;
            Id = id;
        }

        public string Id { get; }

        /// <summary>True when an event arrived (since the last wait) within <paramref name="timeout"/>; false on the timeout or cancellation.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_signals.Reader.TryRead(out _))
            {
                return true;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(timeout);
            try
            {
                await _signals.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        internal void Signal() => _signals.Writer.TryWrite(true);

        public void Dispose() => _hub.Remove(this);
    }
}
