using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Api.Apis;

/// <summary>
/// The events of <c>GET /v1/generations/{id}/events</c>. Subscribes to the generation's channel
/// first, then reads the record, so a change between the two is never lost and a late subscriber
/// still gets the current state. Every published status is only a hint: the record is re-read and
/// an event is sent when its status differs from the last one sent. While queued, the record is also
/// re-read every <see cref="QueuedPollInterval"/> and a fresh <c>queued</c> event is sent when the queue
/// position moved (jobs ahead start without a message on this channel).
/// </summary>
public static class GenerationEventStream
{
    /// <summary>Re-read the record this often even without a message (a safety net, not the mechanism).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(15);

    /// <summary>How often a queued job's position is looked at again.</summary>
    public static readonly TimeSpan QueuedPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>End a stream that has seen no terminal state by then; EventSource reconnects and gets the current state.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(10);

    /// <summary>Sent before <c>succeeded</c> when the image came from FLUX.1-schnell after FLUX.1-dev answered 400.</summary>
    public const string FallbackEvent = "fallback";

    /// <summary>
    /// The generation's events until it ends. <paramref name="streamOwner"/> is the user whose SSE slot
    /// (Limits:MaxEventStreams, claimed by the caller) this stream holds: released when it ends; null
    /// for a reader that claimed none (<c>Prefer: wait</c>).
    /// </summary>
    public static async IAsyncEnumerable<SseItem<GenerationResponse>> ReadAsync(
        IConnectionMultiplexer redis,
        GenerationStore store,
        string id,
        string? streamOwner,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = await redis.GetSubscriber().SubscribeAsync(RedisKeys.Events(id));
        try
        {
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lifetime.CancelAfter(MaxDuration);
            string? sent = null;
            int? sentPosition = null;
            while (!lifetime.IsCancellationRequested)
            {
                var record = await store.GetAsync(id);
                if (record is null)
                {
                    yield break;
                }

                var queue = await store.GetQueueEstimateAsync(record);
                if (record.Status != sent || queue?.Position != sentPosition)
                {
                    var response = GenerationResponse.From(record, queue);
                    if (record.Status == GenerationStatus.Succeeded && record.FellBack)
                    {
                        yield return new SseItem<GenerationResponse>(response, FallbackEvent);
                    }

                    yield return new SseItem<GenerationResponse>(response, record.Status)
                    {
                        ReconnectionInterval = sent is null ? TimeSpan.FromSeconds(2) : null,
                    };
                    sent = record.Status;
                    sentPosition = queue?.Position;
                }

                if (record.IsTerminal)
                {
                    yield break;
                }

                await WaitForMessageAsync(channel, record.Status == GenerationStatus.Queued ? QueuedPollInterval : PollInterval, lifetime.Token);
            }
        }
        finally
        {
            await channel.UnsubscribeAsync();
            if (streamOwner is not null)
            {
                await store.ReleaseEventStreamAsync(streamOwner);
            }
        }
    }

    private static async Task WaitForMessageAsync(ChannelMessageQueue channel, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(interval);
        try
        {
            await channel.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            // Poll interval, end of the stream's lifetime, or the client left: the loop decides.
        }
    }
}
