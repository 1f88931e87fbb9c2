using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Lumiku.Generation;

namespace Lumiku.Api.Apis;

/// <summary>
/// The events of <c>GET /v1/generations/{id}/events</c>. Watches the generation's channel first
/// (through the api process's one shared subscription, <see cref="GenerationEventHub"/>), then reads
/// the record, so a change between the two is never lost and a late subscriber still gets the current
/// state. Every published status is only a hint: the record is re-read and an event is sent when its
/// status differs from the last one sent. While queued, the position is looked at again every
/// <see cref="QueuedPollInterval"/> and a fresh <c>queued</c> event is sent when it moved (jobs ahead
/// start without a message on this channel).
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
    /// <remarks>
    /// The record is read at the start, on each event, and at least every <see cref="PollInterval"/>;
    /// while queued, the position is looked at every <see cref="QueuedPollInterval"/> from the hub's
    /// shared queue snapshot, with no read of its own.
    /// </remarks>
    public static async IAsyncEnumerable<SseItem<GenerationResponse>> ReadAsync(
        GenerationEventHub events,
        GenerationStore store,
        string id,
        string? streamOwner,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var watch = await events.WatchAsync(id);
        try
        {
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lifetime.CancelAfter(MaxDuration);
            string? sent = null;
            int? sentPosition = null;
            var record = await store.GetAsync(id);
            var queue = record is null ? null : await store.GetQueueEstimateAsync(record);
            var lastRead = Stopwatch.GetTimestamp();
            while (record is not null && !lifetime.IsCancellationRequested)
            {
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

                var queued = record.Status == GenerationStatus.Queued;
                var woken = await watch.WaitAsync(queued ? QueuedPollInterval : PollInterval, lifetime.Token);
                if (woken || !queued || Stopwatch.GetElapsedTime(lastRead) >= PollInterval)
                {
                    record = await store.GetAsync(id);
                    lastRead = Stopwatch.GetTimestamp();
                }

                // Only the queue moved (jobs ahead started without a message on this channel): the shared snapshot says where.
                queue = record is null ? null : woken ? await store.GetQueueEstimateAsync(record) : await events.GetQueueEstimateAsync(record);
            }
        }
        finally
        {
            watch.Dispose();
            if (streamOwner is not null)
            {
                await store.ReleaseEventStreamAsync(streamOwner);
            }
        }
    }
}
