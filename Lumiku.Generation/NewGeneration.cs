using System.Text.Json.Serialization;

namespace Lumiku.Generation;

/// <summary>
/// A validated generation request, ready to be queued. The webhook fields are left out of JSON when
/// null, so idempotency fingerprints of requests without a webhook keep their earlier bytes.
/// </summary>
public sealed record NewGeneration(
    string UserId,
    string Prompt,
    string? NegativePrompt,
    int Width,
    int Height,
    long? Seed,
    string Model,
    string? Name = null,
    string? PresetId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Webhook = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WebhookEvents = null);

/// <summary>How a submit ended.</summary>
public enum SubmitOutcome
{
    Accepted,
    /// <summary>The idempotency key was seen with the same body: the earlier generation is returned.</summary>
    Replayed,
    /// <summary>The idempotency key was seen with another body.</summary>
    IdempotencyConflict,
    InsufficientCredits,
    /// <summary>The user already has Limits:MaxUnfinishedJobs jobs queued or processing.</summary>
    TooManyUnfinished,
}

/// <summary>The result of <see cref="GenerationStore.SubmitAsync"/>.</summary>
/// <param name="Record">
/// When accepted: the record exactly as the submit script wrote it, so the caller can answer without
/// reading it back. Null for every other outcome (a replay reads the earlier generation).
/// </param>
public sealed record SubmitResult(SubmitOutcome Outcome, string? GenerationId, long Balance, int Price, GenerationRecord? Record = null);
