namespace Lumiku.Generation;

/// <summary>A generation as the API shows it.</summary>
public sealed record GenerationResponse(
    string Id,
    string Status,
    string Prompt,
    string? NegativePrompt,
    int Width,
    int Height,
    long? Seed,
    string Model,
    string? ModelUsed,
    bool FellBack,
    string? FallbackReason,
    string? Name,
    string? PresetId,
    GenerationCost Cost,
    GenerationError? Error,
    string? ImageUrl,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? CancelAt,
    int? QueuePosition,
    DateTimeOffset? EstimatedStartAt)
{
    /// <summary>The inference provider that produced the image (hf-inference, fal-ai, replicate, together), once succeeded.</summary>
    public string? Provider { get; init; }

    /// <summary>The generation; while queued, with its <paramref name="queue"/> position and start estimate when given.</summary>
    public static GenerationResponse From(GenerationRecord r, QueueEstimate? queue = null) => new(
        r.Id,
        r.Status,
        r.Prompt,
        r.NegativePrompt,
        r.Width,
        r.Height,
        r.Seed,
        FluxModels.AliasOf(r.Model),
        r.ModelUsed is null ? null : FluxModels.AliasOf(r.ModelUsed),
        r.FellBack,
        r.FellBack ? r.PrimaryError : null,
        r.Name,
        r.PresetId,
        new GenerationCost(r.Reserved, r.Charged, r.Refunded),
        r.ErrorCode is null ? null : new GenerationError(r.ErrorCode, r.ErrorCode is "canceled" or "dead_lettered" or "aborted" ? "lumiku" : "ai_provider", r.ErrorMessage ?? r.ErrorCode),
        r.HasImage ? $"/v1/avatars/{r.Id}/image" : null,
        r.CreatedAt,
        r.StartedAt,
        r.CompletedAt,
        r.CancelAt,
        queue?.Position,
        queue?.EstimatedStartAt) { Provider = r.Provider };
}

/// <summary>Credits: reserved on submit, charged on success, refunded on failure, cancel or abort.</summary>
public sealed record GenerationCost(int Reserved, int Charged, int Refunded);

/// <summary>Why a generation failed: a stable code, its category and a readable message.</summary>
public sealed record GenerationError(string Code, string Category, string Message);

/// <summary>A page of generations and the cursor of the next page (null on the last).</summary>
public sealed record GenerationListResponse(IReadOnlyList<GenerationResponse> Items, string? NextCursor);
