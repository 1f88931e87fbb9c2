using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/credits</c> (the caller's balance and ledger) and <c>/v1/admin/credits</c> (grants).</summary>
public static partial class CreditsApi
{
    public const int LedgerLength = 20;

    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/credits")
            .WithTags("Credits")
            .RequireAuthorization()
            .MapGet("/", GetCredits)
            .WithName("GetCredits")
            .WithSummary("The caller's balance, the price of each model and the newest ledger entries");

        app.MapGroup("/v1/admin/credits")
            .WithTags("Admin")
            .RequireAuthorization(AuthExtensions.AdminPolicy)
            .MapPost("/", GrantCredits)
            .WithName("GrantCredits")
            .WithSummary("Grant credits to a user (admin only); recorded in their ledger")
            .WithDescription("With an Idempotency-Key header a retried grant is applied once and answers the first result (Idempotent-Replayed: true); the same key with another grant is 422. A grant that would take the balance past 99,999,999,999,999 is 422 and changes nothing.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    public static async Task<Ok<CreditsResponse>> GetCredits(
        ClaimsPrincipal user,
        GenerationStore store,
        IOptions<CreditOptions> credits)
    {
        var userId = user.UserId();
        var balance = await store.GetBalanceAsync(userId);
        var ledger = await store.GetLedgerAsync(userId, LedgerLength);
        return TypedResults.Ok(new CreditsResponse(
            balance,
            new Dictionary<string, int>
            {
                [FluxModels.DevAlias] = credits.Value.DevPrice,
                [FluxModels.SchnellAlias] = credits.Value.SchnellPrice,
            },
            [.. ledger.Select(LedgerEntryResponse.From)]));
    }

    public static async Task<Results<Ok<GrantCreditsResponse>, ProblemHttpResult>> GrantCredits(
        GrantCreditsRequest request,
        [FromHeader(Name = IdempotencyKeys.Header)] string? idempotencyKey,
        ClaimsPrincipal user,
        HttpContext http,
        GenerationStore store,
        ILoggerFactory loggers)
    {
        if (idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey))
        {
            return IdempotencyKeys.InvalidProblem();
        }

        var logger = loggers.CreateLogger(typeof(CreditsApi).FullName!);
        var reason = request.Reason?.Trim() is { Length: > 0 } r ? r : "admin";
        var adminId = user.UserId();
        var result = await store.GrantAsync(request.UserId!, request.Amount, reason, idempotencyKey, adminId);
        switch (result.Outcome)
        {
            case GrantOutcome.IdempotencyConflict:
                return IdempotencyKeys.ConflictProblem("The key was first used for a different grant (user, amount or reason).");
            case GrantOutcome.OverLimit:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Balance limit reached",
                    detail: $"The grant would take the balance of {result.Balance} past the limit of {CreditLimits.MaxBalance}; nothing was granted.",
                    type: "https://lumiku.dev/problems/balance-limit",
                    extensions: new Dictionary<string, object?> { ["balance"] = result.Balance, ["maxBalance"] = CreditLimits.MaxBalance });
            case GrantOutcome.Replayed:
                http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
                break;
            default:
                LogGranted(logger, request.Amount, request.UserId!, adminId, result.Balance);
                break;
        }

        return TypedResults.Ok(new GrantCreditsResponse(request.UserId!, request.Amount, result.Balance));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Granted {Amount} credits to {UserId} (by {AdminId}); balance {Balance}")]
    private static partial void LogGranted(ILogger logger, long amount, string userId, string adminId, long balance);
}

/// <summary>The body of <c>POST /v1/admin/credits</c>.</summary>
public sealed class GrantCreditsRequest
{
    /// <summary>The user to credit (a token's <c>sub</c>).</summary>
    [Required]
    [StringLength(64, MinimumLength = 1)]
    [RegularExpression("^[A-Za-z0-9_.@-]+$", ErrorMessage = "The userId may contain letters, digits, '-', '_', '.' and '@'.")]
    public string? UserId { get; init; }

    /// <summary>1 to 1,000,000,000,000 credits (a 64-bit number).</summary>
    [Range(typeof(long), "1", "1000000000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public long Amount { get; init; }

    /// <summary>Why (kept in the ledger); at most 100 characters of letters, digits, spaces and basic punctuation.</summary>
    [StringLength(100)]
    [RegularExpression("^[A-Za-z0-9 _.,:;@()-]*$", ErrorMessage = "The reason may contain letters, digits, spaces and basic punctuation.")]
    public string? Reason { get; init; }
}

/// <summary>The answer to a grant (the same answer again when an idempotent grant is replayed).</summary>
public sealed record GrantCreditsResponse(string UserId, long Granted, long Balance);

/// <summary>A balance, what each model costs, and the newest ledger entries first.</summary>
public sealed record CreditsResponse(long Balance, IReadOnlyDictionary<string, int> Prices, IReadOnlyList<LedgerEntryResponse> Ledger);

/// <summary>One ledger line: grant, reserve, settle or refund; <c>amount</c> is the change, <c>balance</c> the result.</summary>
public sealed record LedgerEntryResponse(string Type, string? GenerationId, long Amount, long Balance, DateTimeOffset At, string? Reason, long? Charged)
{
    public static LedgerEntryResponse From(LedgerEntry e) => new(e.Type, e.GenerationId, e.Amount, e.Balance, e.At, e.Reason, e.Charged);
}
