using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using F = Lumiku.Generation.GenerationRecord.Fields;

namespace Lumiku.Generation;

/// <summary>
/// The Redis data model both services share: generation records, the job stream, credits and the
/// ledger. Every state change that matters is one Lua script, so it is atomic and idempotent.
/// </summary>
public sealed partial class GenerationStore(IConnectionMultiplexer redis, IOptions<CreditOptions> credits, TimeProvider time)
{
    private static readonly TimeSpan IdempotencyTtl = TimeSpan.FromHours(24);

    private IDatabase Db => redis.GetDatabase();

    private string Now => time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The traceparent of the span making a state change ('' when none): the scripts store it with the
    /// webhook event they queue, and the delivery span links to it.
    /// </summary>
    private static string ChangeSpan => Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : "";

    /// <summary>
    /// Reserve the model's price, write the record and XADD the job, in one atomic step; refused when the
    /// user already has <paramref name="maxUnfinished"/> jobs queued or processing. With
    /// <paramref name="cancelAfter"/>, a job still queued that long after submit is aborted and refunded.
    /// </summary>
    public async Task<SubmitResult> SubmitAsync(
        NewGeneration request,
        string? idempotencyKey = null,
        string? fingerprint = null,
        string? traceParent = null,
        string? traceState = null,
        TimeSpan? cancelAfter = null,
        int maxUnfinished = int.MaxValue)
    {
        var id = NewId();
        var price = credits.Value.PriceOf(request.Model);
        var createdAt = time.GetUtcNow().ToUnixTimeMilliseconds();
        var idemKey = idempotencyKey is null ? RedisKeys.Idempotency(request.UserId, "-") : RedisKeys.Idempotency(request.UserId, idempotencyKey);

        var args = new List<RedisValue>(32)
        {
            id,
            request.UserId,
            price,
            credits.Value.StarterGrant,
            createdAt,
            idempotencyKey is null ? "" : fingerprint ?? "",
            traceParent ?? "",
            traceState ?? "",
            (long)IdempotencyTtl.TotalSeconds,
            maxUnfinished,
            F.Id, id,
            F.UserId, request.UserId,
            F.Prompt, request.Prompt,
            F.Width, request.Width,
            F.Height, request.Height,
            F.Model, request.Model,
        };
        AddIfPresent(args, F.NegativePrompt, request.NegativePrompt);
        AddIfPresent(args, F.Seed, request.Seed?.ToString(CultureInfo.InvariantCulture));
        AddIfPresent(args, F.Name, request.Name);
        AddIfPresent(args, F.PresetId, request.PresetId);
        AddIfPresent(args, F.Webhook, request.Webhook);
        AddIfPresent(args, F.WebhookEvents, request.Webhook is null ? null : request.WebhookEvents);
        AddIfPresent(args, F.TraceParent, traceParent);
        AddIfPresent(args, F.TraceState, traceState);
        long? cancelAt = cancelAfter is { } after ? createdAt + (long)after.TotalMilliseconds : null;
        AddIfPresent(args, F.CancelAt, cancelAt?.ToString(CultureInfo.InvariantCulture));
        AddIfPresent(args, F.IdempotencyKey, idempotencyKey is null ? null : idemKey.ToString());

        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Submit,
            [
                RedisKeys.Generation(id),
                RedisKeys.Balance(request.UserId),
                RedisKeys.Ledger(request.UserId),
                RedisKeys.Stream,
                RedisKeys.UserGenerations(request.UserId),
                idemKey,
                RedisKeys.WorkersIdle,
                RedisKeys.Deadlines,
                RedisKeys.EnqueuedSeq,
            ],
            [.. args]).ConfigureAwait(false))!;

        return (string)result[0]! switch
        {
            "accepted" => new SubmitResult(SubmitOutcome.Accepted, id, ParseLong(result[2]), price, Queued(id, request, price, createdAt) with
            {
                CancelAt = cancelAt is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
            }),
            "existing" => new SubmitResult(SubmitOutcome.Replayed, (string)result[1]!, 0, price),
            "conflict" => new SubmitResult(SubmitOutcome.IdempotencyConflict, (string)result[1]!, 0, price),
            "busy" => new SubmitResult(SubmitOutcome.TooManyUnfinished, null, ParseLong(result[1]), price),
            _ => new SubmitResult(SubmitOutcome.InsufficientCredits, null, ParseLong(result[1]), price),
        };
    }

    /// <summary>
    /// The record the submit script writes (see <see cref="LuaScripts.Submit"/>), built here instead of
    /// read back: empty optional fields are not stored, so they read as null.
    /// </summary>
    private static GenerationRecord Queued(string id, NewGeneration request, int price, long createdAtMs) => new()
    {
        Id = id,
        UserId = request.UserId,
        Status = GenerationStatus.Queued,
        Prompt = request.Prompt,
        NegativePrompt = NullIfEmpty(request.NegativePrompt),
        Width = request.Width,
        Height = request.Height,
        Seed = request.Seed,
        Model = request.Model,
        Name = NullIfEmpty(request.Name),
        PresetId = NullIfEmpty(request.PresetId),
        Webhook = NullIfEmpty(request.Webhook),
        WebhookEvents = request.Webhook is null ? null : NullIfEmpty(request.WebhookEvents),
        Reserved = price,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(createdAtMs),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public async Task<GenerationRecord?> GetAsync(string id)
    {
        var entries = await Db.HashGetAllAsync(RedisKeys.Generation(id)).ConfigureAwait(false);
        return GenerationRecord.FromHash(entries);
    }

    /// <summary>Take a delivered stream entry; see <see cref="LuaScripts.Start"/>.</summary>
    public async Task<StartResult> StartAsync(string generationId, string userId, RedisValue entryId, string consumer, int maxAttempts)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Start,
            [RedisKeys.Generation(generationId), RedisKeys.Balance(userId), RedisKeys.Ledger(userId), RedisKeys.Stream, RedisKeys.DeadLetterStream, RedisKeys.StartedSeq],
            [entryId, RedisKeys.ConsumerGroup, Now, maxAttempts, consumer, ChangeSpan]).ConfigureAwait(false))!;

        var verdict = (string)result[0]!;
        if (verdict != "process")
        {
            return new StartResult(verdict switch
            {
                "skip" => StartVerdict.AlreadyFinished,
                "dead" => StartVerdict.DeadLettered,
                _ => StartVerdict.Missing,
            }, null);
        }

        return new StartResult(StartVerdict.Process, GenerationRecord.FromFlat((RedisResult[])result[1]!));
    }

    /// <summary>The user id a generation belongs to, without reading the whole record.</summary>
    public async Task<string?> GetOwnerAsync(string generationId) =>
        await Db.HashGetAsync(RedisKeys.Generation(generationId), F.UserId).ConfigureAwait(false);

    /// <summary>
    /// Mark succeeded (recording the <paramref name="provider"/> that served it), settle at <paramref name="modelUsed"/>'s price, ack. Returns the credits
    /// charged, or null when the generation was already terminal (nothing changed).
    /// </summary>
    public async Task<int?> CompleteAsync(
        GenerationRecord generation,
        RedisValue entryId,
        string modelUsed,
        bool fellBack,
        string? primaryError,
        string contentType,
        long imageBytes,
        string? provider = null)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Complete,
            [RedisKeys.Generation(generation.Id), RedisKeys.Balance(generation.UserId), RedisKeys.Ledger(generation.UserId), RedisKeys.Stream],
            [
                entryId.IsNull ? "" : entryId,
                RedisKeys.ConsumerGroup,
                Now,
                modelUsed,
                credits.Value.PriceOf(modelUsed),
                fellBack ? "1" : "0",
                primaryError ?? "",
                contentType,
                imageBytes,
                provider ?? "",
                ChangeSpan,
            ]).ConfigureAwait(false))!;
        return (string)result[0]! == "succeeded" ? ParseInt(result[1]) : null;
    }

    /// <summary>Fail the generation and refund its reservation once; ack the entry.</summary>
    public Task<FinishResult> FailAsync(GenerationRecord generation, RedisValue entryId, string errorCode, string errorMessage, string? deadLetterReason = null) =>
        FinishAsync(generation.Id, generation.UserId, entryId, GenerationStatus.Failed, errorCode, errorMessage, userCancel: false, deadLetterReason);

    /// <summary>
    /// Cancel a queued or processing generation and refund its reservation once. A processing job's
    /// worker is told on <see cref="RedisKeys.CancelChannel"/> and its Complete loses (charges nothing).
    /// </summary>
    public Task<FinishResult> CancelAsync(string generationId, string userId) =>
        FinishAsync(generationId, userId, RedisValue.Null, GenerationStatus.Canceled, "canceled", "Canceled by the user.", userCancel: true, null);

    /// <summary>Record a malformed stream entry in the dead-letter stream and ack it, so the loop goes on.</summary>
    public async Task DeadLetterMalformedAsync(RedisValue entryId, string reason)
    {
        var tx = Db.CreateTransaction();
        _ = tx.StreamAddAsync(RedisKeys.DeadLetterStream, [new NameValueEntry("entryId", entryId), new NameValueEntry("reason", reason)]);
        _ = tx.StreamAcknowledgeAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, entryId);
        await tx.ExecuteAsync().ConfigureAwait(false);
    }

    private async Task<FinishResult> FinishAsync(
        string generationId, string userId, RedisValue entryId, string status, string errorCode, string errorMessage, bool userCancel, string? deadLetterReason)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Finish,
            [RedisKeys.Generation(generationId), RedisKeys.Balance(userId), RedisKeys.Ledger(userId), RedisKeys.Stream, RedisKeys.DeadLetterStream],
            [
                entryId.IsNull ? "" : entryId,
                RedisKeys.ConsumerGroup,
                Now,
                status,
                errorCode,
                errorMessage,
                userCancel ? "1" : "0",
                deadLetterReason ?? "",
                ChangeSpan,
            ]).ConfigureAwait(false))!;

        var verdict = (string)result[0]!;
        return verdict switch
        {
            "missing" => new FinishResult(false, null, 0),
            "conflict" => new FinishResult(false, (string)result[1]!, 0),
            _ => new FinishResult(true, verdict, ParseInt(result[1])),
        };
    }

    /// <summary>
    /// Trims stream entries that every consumer is done with: older than both the group's oldest
    /// pending entry and its last delivered one. Undelivered and unacknowledged work is never
    /// dropped. Returns the number of entries removed.
    /// </summary>
    public Task<long> TrimAcknowledgedAsync() => StreamTrimming.TrimAcknowledgedAsync(Db, RedisKeys.Stream, RedisKeys.ConsumerGroup);

    /// <summary>Rename a generation of <paramref name="userId"/>; false when it is not theirs (or gone).</summary>
    public async Task<bool> RenameAsync(string generationId, string userId, string? name)
    {
        var result = await Db.ScriptEvaluateAsync(LuaScripts.Rename, [RedisKeys.Generation(generationId)], [userId, name ?? ""]).ConfigureAwait(false);
        return (int)result == 1;
    }

    /// <summary>
    /// Delete a succeeded generation of <paramref name="userId"/> (its record and list entry; the
    /// ledger keeps its lines). The caller deletes the image afterwards, so a record never points
    /// at a missing file. False when it is not theirs or not succeeded.
    /// </summary>
    public async Task<bool> DeleteAvatarAsync(string generationId, string userId)
    {
        var result = await Db.ScriptEvaluateAsync(
            LuaScripts.DeleteAvatar,
            [RedisKeys.Generation(generationId), RedisKeys.UserGenerations(userId)],
            [userId, generationId]).ConfigureAwait(false);
        return (int)result == 1;
    }

    /// <summary>The most ids one list request reads to fill a page of a sparse filter (docs/api.md, Paging).</summary>
    public const int MaxScannedPerPage = 1000;

    /// <summary>
    /// A page of the user's generations, newest first, after <paramref name="after"/>, keeping those
    /// <paramref name="filter"/> accepts (all when null). One script finds the page's ids (see
    /// <see cref="LuaScripts.ListPage"/>), reading at most <paramref name="maxScanned"/> ids: when a
    /// sparse filter hits that bound the page is short and its cursor continues the scan. The script
    /// answers with the page's records too, read in the same atomic step.
    /// </summary>
    public async Task<GenerationPage> ListAsync(
        string userId, GenerationCursor? after, int take, GenerationFilter? filter = null, int maxScanned = MaxScannedPerPage)
    {
        filter ??= GenerationFilter.All;
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.ListPage,
            [RedisKeys.UserGenerations(userId)],
            [
                after is null ? RedisValue.EmptyString : after.CreatedMs,
                after?.Id ?? "",
                take,
                maxScanned,
                RedisKeys.GenerationPrefix,
                filter.Status ?? "",
                filter.ImageOnly ? "1" : "0",
            ]).ConfigureAwait(false))!;

        var found = (RedisResult[])result[3]!;
        var matches = new GenerationCursor[found.Length / 2];
        for (var i = 0; i < matches.Length; i++)
        {
            matches[i] = new GenerationCursor(ParseLong(found[2 * i + 1]), (string)found[2 * i]!);
        }

        // A list entry whose record is gone reads as an empty hash and is left out (the page is short).
        var items = new List<GenerationRecord>(result.Length - 4);
        for (var i = 4; i < result.Length; i++)
        {
            if (GenerationRecord.FromFlat((RedisResult[])result[i]!) is { } record)
            {
                items.Add(record);
            }
        }

        var next = matches.Length > take
            ? matches[take - 1]
            : (int)result[0] == 1 ? null : new GenerationCursor(ParseLong(result[1]), (string)result[2]!);
        return new GenerationPage(items, next);
    }

    public async Task<long> GetBalanceAsync(string userId)
    {
        var value = await Db.StringGetAsync(RedisKeys.Balance(userId)).ConfigureAwait(false);
        return value.IsNull ? credits.Value.StarterGrant : (long)value;
    }

    /// <summary>
    /// Grant credits to a user (recorded in the ledger), never past <see cref="CreditLimits.MaxBalance"/>.
    /// With an <paramref name="idempotencyKey"/> (scoped to <paramref name="grantedBy"/>) a repeated
    /// grant is applied once and answers the first balance for 24 h; the same key for another grant
    /// (user, amount or reason) is a conflict.
    /// </summary>
    public async Task<GrantResult> GrantAsync(string userId, long amount, string reason, string? idempotencyKey = null, string grantedBy = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(amount, CreditLimits.MaxGrant);
        var fingerprint = idempotencyKey is null ? "" : GrantFingerprint(userId, amount, reason);
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            LuaScripts.Grant,
            [RedisKeys.Balance(userId), RedisKeys.Ledger(userId), RedisKeys.GrantIdempotency(grantedBy, idempotencyKey ?? "-")],
            [amount, credits.Value.StarterGrant, Now, reason, fingerprint, (long)IdempotencyTtl.TotalSeconds, CreditLimits.MaxBalance]).ConfigureAwait(false))!;

        return (string)result[0]! switch
        {
            "granted" => new GrantResult(GrantOutcome.Granted, ParseLong(result[1])),
            "existing" => new GrantResult(GrantOutcome.Replayed, ParseLong(result[1])),
            "limit" => new GrantResult(GrantOutcome.OverLimit, ParseLong(result[1])),
            _ => new GrantResult(GrantOutcome.IdempotencyConflict, 0),
        };
    }

    private static string GrantFingerprint(string userId, long amount, string reason) =>
        Convert.ToHexString(SHA256.HashData(
            Encoding.UTF8.GetBytes(string.Join('\n', userId, amount.ToString(CultureInfo.InvariantCulture), reason))));

    /// <summary>The newest ledger entries first.</summary>
    public async Task<IReadOnlyList<LedgerEntry>> GetLedgerAsync(string userId, int count = 20)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Ledger(userId), "-", "+", count, Order.Descending).ConfigureAwait(false);
        return [.. entries.Select(ToLedgerEntry)];
    }

    /// <summary>Every ledger entry, oldest first.</summary>
    public async Task<IReadOnlyList<LedgerEntry>> GetFullLedgerAsync(string userId)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Ledger(userId)).ConfigureAwait(false);
        return [.. entries.Select(ToLedgerEntry)];
    }

    private static LedgerEntry ToLedgerEntry(StreamEntry e)
    {
        string? Get(string name) => e[name] is { IsNullOrEmpty: false } v ? (string?)v : null;
        long? GetLong(string name) => Get(name) is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : null;
        return new LedgerEntry(
            e.Id!,
            Get("type") ?? "",
            Get("generationId"),
            GetLong("amount") ?? 0,
            GetLong("balance") ?? 0,
            DateTimeOffset.FromUnixTimeMilliseconds(GetLong("at") ?? 0),
            Get("reason"),
            GetLong("charged"));
    }

    private static void AddIfPresent(List<RedisValue> args, string field, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            args.Add(field);
            args.Add(value);
        }
    }

    private static int ParseInt(RedisResult result) => int.Parse((string)result!, CultureInfo.InvariantCulture);

    private static long ParseLong(RedisResult result) => long.Parse((string)result!, CultureInfo.InvariantCulture);

    /// <summary>Generation ids: time-ordered, URL-safe (a version 7 Guid as 32 lowercase hex digits).</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");
}

public enum StartVerdict
{
    Process,
    AlreadyFinished,
    DeadLettered,
    Missing,
}

public sealed record StartResult(StartVerdict Verdict, GenerationRecord? Generation);

/// <summary>Outcome of a fail or cancel: whether this call changed the state, the state now, and the refund.</summary>
public sealed record FinishResult(bool Changed, string? Status, int Refunded);
