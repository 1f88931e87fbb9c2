using System.Globalization;
using System.Text.Json;
using Lumiku.Generation.Redis;
using StackExchange.Redis;

namespace Lumiku.Generation.Webhooks;

/// <summary>
/// The webhook outbox in Redis: events appended by the state-change scripts, read by the workers'
/// consumer group, each settled (delivered, given up, disabled) or parked for a retry by one script,
/// so a crash between steps re-sends at most (at-least-once) and never skips an event.
/// </summary>
public sealed class WebhookStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>Creates the consumer group (from the start of the stream) unless it exists.</summary>
    public async Task EnsureGroupAsync()
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(RedisKeys.WebhookOutbox, RedisKeys.WebhookSenders, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    /// <summary>
    /// Entries another consumer left pending <paramref name="claimAfter"/> (null: none looked for),
    /// then new entries for <paramref name="consumer"/>.
    /// </summary>
    public async Task<IReadOnlyList<(RedisValue EntryId, WebhookEvent? Event)>> ReadAsync(string consumer, int count, TimeSpan? claimAfter)
    {
        var entries = new List<StreamEntry>();
        if (claimAfter is { } idle)
        {
            var claimed = await Db.StreamAutoClaimAsync(RedisKeys.WebhookOutbox, RedisKeys.WebhookSenders, consumer, (long)idle.TotalMilliseconds, "0-0", count).ConfigureAwait(false);
            entries.AddRange(claimed.ClaimedEntries.Where(e => !e.IsNull));
        }

        if (entries.Count < count)
        {
            entries.AddRange(await Db.StreamReadGroupAsync(RedisKeys.WebhookOutbox, RedisKeys.WebhookSenders, consumer, StreamPosition.NewMessages, count - entries.Count).ConfigureAwait(false));
        }

        return [.. entries.Select(e => (e.Id, Parse(e["event"])))];
    }

    private static WebhookEvent? Parse(RedisValue json)
    {
        try
        {
            return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)json!, WebhookJsonContext.Default.WebhookEvent);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Acks an entry nobody can deliver (not an event).</summary>
    public Task DropAsync(RedisValue entryId) => Db.StreamAcknowledgeAsync(RedisKeys.WebhookOutbox, RedisKeys.WebhookSenders, entryId);

    /// <summary>Whether the event may go now (its predecessor settled); see <c>webhook-begin.lua</c>.</summary>
    public async Task<BeginVerdict> BeginAsync(RedisValue entryId, WebhookEvent e)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.WebhookBegin,
            [RedisKeys.WebhookDeliveries(e.Gen), RedisKeys.WebhookOutbox],
            [entryId, RedisKeys.WebhookSenders, e.Seq, Serialize(e)]).ConfigureAwait(false))!;
        return (string)result[0]! switch
        {
            "go" => (string)result[1]! == "1" ? BeginVerdict.Disabled : BeginVerdict.Send,
            "parked" => BeginVerdict.Parked,
            _ => BeginVerdict.AlreadySettled,
        };
    }

    /// <summary>The attempts recorded so far for the event.</summary>
    public async Task<WebhookDelivery?> GetDeliveryAsync(WebhookEvent e)
    {
        var json = await Db.HashGetAsync(RedisKeys.WebhookDeliveries(e.Gen), e.Seq).ConfigureAwait(false);
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)json!, WebhookJsonContext.Default.WebhookDelivery);
    }

    /// <summary>The event is done with (delivered, given up or disabled); its parked successor goes on.</summary>
    public Task SettleAsync(RedisValue entryId, WebhookEvent e, WebhookDelivery state, bool disable, TimeSpan historyRetention) =>
        Db.ScriptEvaluateAsync(
            LuaScripts.WebhookSettle,
            [RedisKeys.WebhookDeliveries(e.Gen), RedisKeys.WebhookOutbox],
            [entryId, RedisKeys.WebhookSenders, e.Seq, Serialize(state), e.Gen, disable ? "1" : "0", (long)historyRetention.TotalSeconds]);

    /// <summary>Parks the event for another attempt at <paramref name="dueAt"/>.</summary>
    public Task RetryAsync(RedisValue entryId, WebhookEvent e, WebhookDelivery state, DateTimeOffset dueAt) =>
        Db.ScriptEvaluateAsync(
            LuaScripts.WebhookRetry,
            [RedisKeys.WebhookDeliveries(e.Gen), RedisKeys.WebhookOutbox, RedisKeys.WebhookDelayed],
            [entryId, RedisKeys.WebhookSenders, e.Seq, Serialize(state), dueAt.ToUnixTimeMilliseconds(), Serialize(e with { Attempt = e.Attempt + 1 })]);

    /// <summary>Re-adds events whose retry is due; returns how many.</summary>
    public async Task<int> PromoteDueAsync(DateTimeOffset now, int max) =>
        (int)await Db.ScriptEvaluateAsync(LuaScripts.WebhookPromote, [RedisKeys.WebhookDelayed, RedisKeys.WebhookOutbox], [now.ToUnixTimeMilliseconds(), max]).ConfigureAwait(false);

    /// <summary>Trims outbox entries every sender is done with; see <see cref="GenerationStore.TrimAcknowledgedAsync"/>.</summary>
    public Task<long> TrimAcknowledgedAsync() => StreamTrimming.TrimAcknowledgedAsync(Db, RedisKeys.WebhookOutbox, RedisKeys.WebhookSenders);

    /// <summary>A generation's deliveries in event order.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string generationId)
    {
        var fields = await Db.HashGetAllAsync(RedisKeys.WebhookDeliveries(generationId)).ConfigureAwait(false);
        return [.. fields
            .Select(f => (Ok: int.TryParse((string)f.Name!, NumberStyles.None, CultureInfo.InvariantCulture, out var seq), Seq: seq, f.Value))
            .Where(f => f.Ok)
            .OrderBy(f => f.Seq)
            .Select(f => JsonSerializer.Deserialize((string)f.Value!, WebhookJsonContext.Default.WebhookDelivery)!)];
    }

    private static string Serialize(WebhookEvent e) => JsonSerializer.Serialize(e, WebhookJsonContext.Default.WebhookEvent);

    private static string Serialize(WebhookDelivery d) => JsonSerializer.Serialize(d, WebhookJsonContext.Default.WebhookDelivery);
}

/// <summary>What <see cref="WebhookStore.BeginAsync"/> decided.</summary>
public enum BeginVerdict
{
    Send,
    /// <summary>A 410 disabled the generation's webhook: settle without sending.</summary>
    Disabled,
    /// <summary>Waiting for its predecessor; re-added when that settles.</summary>
    Parked,
    /// <summary>A redelivery of an event already settled: acked.</summary>
    AlreadySettled,
}
