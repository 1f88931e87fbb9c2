using System.Globalization;
using StackExchange.Redis;

namespace Lumiku.Generation;

/// <summary>A generation as stored in its Redis hash (<c>lumiku:gen:{id}</c>).</summary>
public sealed record GenerationRecord
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Status { get; init; }
    public required string Prompt { get; init; }
    public string? NegativePrompt { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public long? Seed { get; init; }
    /// <summary>The model the client asked for (full Hugging Face id).</summary>
    public required string Model { get; init; }
    /// <summary>The model that produced the image; differs from <see cref="Model"/> after a fallback.</summary>
    public string? ModelUsed { get; init; }
    /// <summary>The inference provider (hf-inference, fal-ai...) that produced the image.</summary>
    public string? Provider { get; init; }
    public bool FellBack { get; init; }
    /// <summary>The primary model's error when the generation fell back.</summary>
    public string? PrimaryError { get; init; }
    public string? Name { get; init; }
    public string? PresetId { get; init; }
    public int Reserved { get; init; }
    public int Charged { get; init; }
    public int Refunded { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public string? ImageContentType { get; init; }
    public long ImageBytes { get; init; }
    public int Attempts { get; init; }
    /// <summary>Times the job was put back to wait after the provider said "later" (429, 503, timeout).</summary>
    public int Deferrals { get; init; }
    /// <summary>Where status changes are delivered (Standard Webhooks), and which (<see cref="WebhookEvents"/>, space-separated).</summary>
    public string? Webhook { get; init; }
    public string? WebhookEvents { get; init; }
    /// <summary>The job's trace context (W3C), for spans that belong to the job's trace.</summary>
    public string? TraceParent { get; init; }
    public string? TraceState { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>The Cancel-After deadline: still queued then, the job is aborted and refunded.</summary>
    public DateTimeOffset? CancelAt { get; init; }
    /// <summary>The job's place in the order of enqueueing (see <see cref="GenerationStore.GetQueueEstimateAsync"/>).</summary>
    public long? QueueSeq { get; init; }

    public bool IsTerminal => GenerationStatus.IsTerminal(Status);
    public bool HasImage => Status == GenerationStatus.Succeeded && ImageContentType is not null;

    /// <summary>Hash field names.</summary>
    public static class Fields
    {
        public const string Id = "id";
        public const string UserId = "userId";
        public const string Status = "status";
        public const string Prompt = "prompt";
        public const string NegativePrompt = "negativePrompt";
        public const string Width = "width";
        public const string Height = "height";
        public const string Seed = "seed";
        public const string Model = "model";
        public const string ModelUsed = "modelUsed";
        public const string Provider = "provider";
        public const string FellBack = "fellBack";
        public const string PrimaryError = "primaryError";
        public const string Name = "name";
        public const string PresetId = "presetId";
        public const string Reserved = "reserved";
        public const string Charged = "charged";
        public const string Refunded = "refunded";
        public const string ErrorCode = "errorCode";
        public const string ErrorMessage = "errorMessage";
        public const string ImageContentType = "imageContentType";
        public const string ImageBytes = "imageBytes";
        public const string Attempts = "attempts";
        public const string Deferrals = "deferrals";
        public const string Webhook = "webhook";
        public const string WebhookEvents = "webhookEvents";
        public const string TraceParent = "traceparent";
        public const string TraceState = "tracestate";
        public const string CreatedAt = "createdAt";
        public const string StartedAt = "startedAt";
        public const string CompletedAt = "completedAt";
        public const string CancelAt = "cancelAt";
        public const string QueueSeq = "queueSeq";

        /// <summary>The Redis key of the submission's Idempotency-Key entry, so deleting the record deletes it too.</summary>
        public const string IdempotencyKey = "idemKey";
    }

    /// <summary>Reads a record from the flat field/value array HGETALL (or a script) returns; null when empty.</summary>
    public static GenerationRecord? FromHash(ReadOnlySpan<HashEntry> entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        var map = new Dictionary<string, string>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            map[e.Name!] = e.Value!;
        }

        return FromMap(map);
    }

    /// <summary>Reads a record from a script's reply of a flat HGETALL (field, value, field, value…); null when empty.</summary>
    public static GenerationRecord? FromFlat(RedisResult[] flat)
    {
        var map = new Dictionary<string, string>(flat.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            map[(string)flat[i]!] = (string?)flat[i + 1] ?? "";
        }

        return FromMap(map);
    }

    /// <summary>Reads a record from a field/value map; null when the map lacks the identifying fields.</summary>
    public static GenerationRecord? FromMap(IReadOnlyDictionary<string, string> map)
    {
        if (!map.TryGetValue(Fields.Id, out var id) || !map.TryGetValue(Fields.UserId, out var userId))
        {
            return null;
        }

        string? Str(string f) => map.TryGetValue(f, out var v) && v.Length > 0 ? v : null;
        int Int(string f) => map.TryGetValue(f, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0;
        long? Long(string f) => map.TryGetValue(f, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
        DateTimeOffset? Time(string f) => Long(f) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

        return new GenerationRecord
        {
            Id = id,
            UserId = userId,
            Status = Str(Fields.Status) ?? GenerationStatus.Queued,
            Prompt = Str(Fields.Prompt) ?? "",
            NegativePrompt = Str(Fields.NegativePrompt),
            Width = Int(Fields.Width),
            Height = Int(Fields.Height),
            Seed = Long(Fields.Seed),
            Model = Str(Fields.Model) ?? FluxModels.Dev,
            ModelUsed = Str(Fields.ModelUsed),
            Provider = Str(Fields.Provider),
            FellBack = Str(Fields.FellBack) == "1",
            PrimaryError = Str(Fields.PrimaryError),
            Name = Str(Fields.Name),
            PresetId = Str(Fields.PresetId),
            Reserved = Int(Fields.Reserved),
            Charged = Int(Fields.Charged),
            Refunded = Int(Fields.Refunded),
            ErrorCode = Str(Fields.ErrorCode),
            ErrorMessage = Str(Fields.ErrorMessage),
            ImageContentType = Str(Fields.ImageContentType),
            ImageBytes = Long(Fields.ImageBytes) ?? 0,
            Attempts = Int(Fields.Attempts),
            Deferrals = Int(Fields.Deferrals),
            Webhook = Str(Fields.Webhook),
            WebhookEvents = Str(Fields.WebhookEvents),
            TraceParent = Str(Fields.TraceParent),
            TraceState = Str(Fields.TraceState),
            CreatedAt = Time(Fields.CreatedAt) ?? DateTimeOffset.UnixEpoch,
            StartedAt = Time(Fields.StartedAt),
            CompletedAt = Time(Fields.CompletedAt),
            CancelAt = Time(Fields.CancelAt),
            QueueSeq = Long(Fields.QueueSeq),
        };
    }
}
