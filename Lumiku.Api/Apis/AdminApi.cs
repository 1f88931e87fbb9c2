using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/admin/dead-letters</c>: see the jobs the worker gave up on, and queue one again.</summary>
public static partial class AdminApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin/dead-letters")
            .WithTags("Admin")
            .RequireAuthorization(AuthExtensions.AdminPolicy);

        api.MapGet("/", ListDeadLetters)
            .WithName("ListDeadLetters")
            .WithSummary("The dead-letter stream, newest first (cursor-paged; admin only)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/{entryId}/redrive", Redrive)
            .WithName("RedriveDeadLetter")
            .WithSummary("Queue a dead-lettered job again, reserving its price anew (admin only)")
            .WithDescription("Once per dead-letter entry: a second redrive answers 409 and changes nothing. The user's balance short of the price answers 402.")
            .ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Results<Ok<DeadLetterListResponse>, ValidationProblem>> ListDeadLetters(
        GenerationStore store,
        [Range(1, MaxPageSize)] int limit = DefaultPageSize,
        [StringLength(64)] string? cursor = null)
    {
        if (!StreamCursor.TryParse(cursor, out var before, out var problem))
        {
            return problem;
        }

        var page = await store.ListDeadLettersAsync(before, limit);
        return TypedResults.Ok(new DeadLetterListResponse(page.Items, page.Next?.ToString()));
    }

    public static async Task<Results<Ok<RedriveResponse>, ProblemHttpResult>> Redrive(
        string entryId,
        ClaimsPrincipal admin,
        GenerationStore store,
        ILoggerFactory loggers)
    {
        if (!StreamId.TryParse(entryId, out var id))
        {
            return NotFound(entryId);
        }

        var result = await store.RedriveAsync(id);
        switch (result.Outcome)
        {
            case RedriveOutcome.Queued:
                LogRedriven(loggers.CreateLogger(typeof(AdminApi).FullName!), entryId, result.GenerationId!, admin.UserId(), result.Price);
                return TypedResults.Ok(new RedriveResponse(result.GenerationId!, result.Status!, result.Price, result.Balance));
            case RedriveOutcome.AlreadyRedriven:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Already redriven",
                    detail: $"Generation {result.GenerationId} was redriven from this entry before, or is no longer failed ({result.Status}); nothing changed.",
                    type: "https://lumiku.dev/problems/already-redriven",
                    extensions: new Dictionary<string, object?> { ["generationStatus"] = result.Status });
            case RedriveOutcome.InsufficientCredits:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status402PaymentRequired,
                    title: "Not enough credits",
                    detail: $"The job costs {result.Price} credits and its user's balance is {result.Balance}; grant credits first.",
                    type: "https://lumiku.dev/problems/insufficient-credits",
                    extensions: new Dictionary<string, object?> { ["balance"] = result.Balance, ["price"] = result.Price });
            case RedriveOutcome.Gone:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status404NotFound,
                    title: "Generation gone",
                    detail: $"Generation {result.GenerationId} has expired or was deleted; it cannot be redriven.");
            default:
                return NotFound(entryId);
        }
    }

    private static ProblemHttpResult NotFound(string entryId) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Dead letter not found",
        detail: $"There is no dead-letter entry '{entryId}' naming a job.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {EntryId} redriven: generation {GenerationId} queued again by {AdminId}, {Price} credits reserved")]
    private static partial void LogRedriven(ILogger logger, string entryId, string generationId, string adminId, int price);
}

public sealed record DeadLetterListResponse(IReadOnlyList<DeadLetter> Items, string? NextCursor);

/// <summary>A redriven job: queued again, its price reserved, its user's balance after.</summary>
public sealed record RedriveResponse(string GenerationId, string Status, int Reserved, long Balance);
