using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/generations</c>: submit a generation and follow it.</summary>
public static partial class GenerationsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static RouteGroupBuilder MapGenerationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/generations")
            .WithTags("Generations")
            .RequireAuthorization();

        api.MapPost("/", CreateGeneration)
            .WithName("CreateGeneration")
            .WithSummary("Queue an avatar generation")
            .WithDescription("Reserves the model's price in credits and queues the job. Answers 202 with the generation; follow its Location.");
        api.MapGet("/{id}", GetGeneration)
            .WithName("GetGeneration")
            .WithSummary("A generation's status, cost and image URL");
        return api;
    }

    public static async Task<Results<Accepted<GenerationResponse>, ProblemHttpResult>> CreateGeneration(
        CreateGenerationRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal user,
        HttpContext http,
        [AsParameters] GenerationServices services)
    {
        if (idempotencyKey is not null && !IsValidIdempotencyKey(idempotencyKey))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid Idempotency-Key",
                detail: "The Idempotency-Key header must be 1 to 100 characters of letters, digits, '-', '_', '.' or ':'.");
        }

        var userId = user.UserId();
        var generation = request.ToNewGeneration(userId);
        var fingerprint = idempotencyKey is null ? null : Fingerprint(generation);

        SubmitResult result;
        using (var publish = StartPublishActivity())
        {
            var context = publish?.Context ?? Activity.Current?.Context ?? default;
            string? traceParent = null;
            string? traceState = null;
            if (context != default)
            {
                traceParent = $"00-{context.TraceId}-{context.SpanId}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
                traceState = context.TraceState;
            }

            result = await services.Store.SubmitAsync(generation, idempotencyKey, fingerprint, traceParent, traceState);
            if (result.Outcome == SubmitOutcome.Accepted)
            {
                publish?.SetTag("messaging.message.id", result.GenerationId);
                publish?.SetTag("lumiku.generation.id", result.GenerationId);
            }
        }

        switch (result.Outcome)
        {
            case SubmitOutcome.InsufficientCredits:
                services.Telemetry.GenerationsRejected.Add(1, new KeyValuePair<string, object?>("reason", "insufficient_credits"));
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status402PaymentRequired,
                    title: "Not enough credits",
                    detail: $"This generation costs {result.Price} credits and your balance is {result.Balance}.",
                    type: "https://lumiku.dev/problems/insufficient-credits",
                    extensions: new Dictionary<string, object?> { ["balance"] = result.Balance, ["price"] = result.Price });
            case SubmitOutcome.IdempotencyConflict:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency-Key reused with another request",
                    detail: $"The key was first used for generation {result.GenerationId} with a different body.",
                    type: "https://lumiku.dev/problems/idempotency-conflict");
        }

        var record = await services.Store.GetAsync(result.GenerationId!);
        if (result.Outcome == SubmitOutcome.Replayed)
        {
            http.Response.Headers[ReplayedHeader] = "true";
        }
        else
        {
            services.Telemetry.GenerationsAccepted.Add(1, new KeyValuePair<string, object?>("model", generation.Model));
            services.Telemetry.CreditsReserved.Add(result.Price);
            LogAccepted(services.Logger, result.GenerationId!, generation.Model, generation.Width, generation.Height);
        }

        return TypedResults.Accepted($"/v1/generations/{result.GenerationId}", GenerationResponse.From(record!));
    }

    public static async Task<Results<Ok<GenerationResponse>, NotFound<ProblemDetails>>> GetGeneration(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services)
    {
        var record = await FindOwnedAsync(services.Store, id, user);
        return record is null ? NotFoundProblem(id) : TypedResults.Ok(GenerationResponse.From(record));
    }

    /// <summary>The caller's generation, or null: another user's id is answered exactly like an unknown one.</summary>
    public static async Task<GenerationRecord?> FindOwnedAsync(GenerationStore store, string id, ClaimsPrincipal user)
    {
        if (id.Length is < 1 or > 64 || !id.All(char.IsAsciiLetterOrDigit))
        {
            return null;
        }

        var record = await store.GetAsync(id);
        return record is not null && record.UserId == user.UserId() ? record : null;
    }

    public static NotFound<ProblemDetails> NotFoundProblem(string id) => TypedResults.NotFound(new ProblemDetails
    {
        Status = StatusCodes.Status404NotFound,
        Title = "Generation not found",
        Detail = $"There is no generation '{id}' for this user.",
    });

    private static Activity? StartPublishActivity()
    {
        var activity = ApiTelemetry.Source.StartActivity("publish " + RedisKeys.StreamSpanName, ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "redis");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.destination.name", RedisKeys.Stream);
        }

        return activity;
    }

    private static bool IsValidIdempotencyKey(string key) =>
        key.Length is >= 1 and <= 100 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static string Fingerprint(NewGeneration generation) =>
        Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(generation)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} accepted: {Model} {Width}x{Height}")]
    private static partial void LogAccepted(ILogger logger, string generationId, string model, int width, int height);
}
