using System.Text.Json.Serialization;

namespace Lumiku.Generation.Webhooks;

/// <summary>
/// One event in the webhook outbox, as the prelude's <c>webhook</c> helper writes it: an id stable
/// across retries (the receiver's idempotency key), its place among the generation's events, the
/// status, the change's time (Unix ms), attempts made so far, the record as the change left it and
/// the traceparent of the span that made the change (the delivery span links to it; null when none).
/// </summary>
public sealed record WebhookEvent(
    string Id,
    string Gen,
    int Seq,
    string Type,
    string At,
    int Attempt,
    Dictionary<string, string> Record,
    string? Link = null)
{
    public DateTimeOffset OccurredAt => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(At, System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>A generation's delivery of one event, as <c>GET /v1/generations/{id}/webhook-deliveries</c> shows it.</summary>
public sealed record WebhookDelivery(
    string Id,
    string Type,
    string State,
    IReadOnlyList<WebhookAttempt>? Attempts = null,
    DateTimeOffset? NextAttemptAt = null)
{
    public const string Pending = "pending";
    public const string Retrying = "retrying";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Disabled = "disabled";
}

/// <summary>One try: when, the answer's status code (null when none came) and why it failed.</summary>
public sealed record WebhookAttempt(DateTimeOffset At, int? StatusCode, string? Error);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookEvent))]
[JsonSerializable(typeof(WebhookDelivery))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
