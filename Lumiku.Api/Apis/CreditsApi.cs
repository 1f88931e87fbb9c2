using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Microsoft.AspNetCore.Http.HttpResults;
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
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden);
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

    public static async Task<Ok<GrantCreditsResponse>> GrantCredits(
        GrantCreditsRequest request,
        ClaimsPrincipal user,
        GenerationStore store,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(CreditsApi).FullName!);
        var reason = request.Reason?.Trim() is { Length: > 0 } r ? r : "admin";
        var balance = await store.GrantAsync(request.UserId!, request.Amount, reason);
        LogGranted(logger, request.Amount, request.UserId!, user.UserId(), balance);
        return TypedResults.Ok(new GrantCreditsResponse(request.UserId!, request.Amount, balance));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Granted {Amount} credits to {UserId} (by {AdminId}); balance {Balance}")]
    private static partial void LogGranted(ILogger logger, int amount, string userId, string adminId, int balance);
}

/// <summary>The body of <c>POST /v1/admin/credits</c>.</summary>
public sealed class GrantCreditsRequest
{
    /// <summary>The user to credit (a token's <c>sub</c>).</summary>
    [Required]
    [StringLength(64, MinimumLength = 1)]
    [RegularExpression("^[A-Za-z0-9_.@-]+$", ErrorMessage = "The userId may contain letters, digits, '-', '_', '.' and '@'.")]
    public string? UserId { get; init; }

    /// <summary>1 to 1,000,000 credits.</summary>
    [Range(1, 1_000_000)]
    public int Amount { get; init; }

    /// <summary>Why (kept in the ledger); at most 100 characters of letters, digits, spaces and basic punctuation.</summary>
    [StringLength(100)]
    [RegularExpression("^[A-Za-z0-9 _.,:;@()-]*$", ErrorMessage = "The reason may contain letters, digits, spaces and basic punctuation.")]
    public string? Reason { get; init; }
}

public sealed record GrantCreditsResponse(string UserId, int Granted, int Balance);

/// <summary>A balance, what each model costs, and the newest ledger entries first.</summary>
public sealed record CreditsResponse(int Balance, IReadOnlyDictionary<string, int> Prices, IReadOnlyList<LedgerEntryResponse> Ledger);

/// <summary>One ledger line: grant, reserve, settle or refund; <c>amount</c> is the change, <c>balance</c> the result.</summary>
public sealed record LedgerEntryResponse(string Type, string? GenerationId, int Amount, int Balance, DateTimeOffset At, string? Reason, int? Charged)
{
    public static LedgerEntryResponse From(LedgerEntry e) => new(e.Type, e.GenerationId, e.Amount, e.Balance, e.At, e.Reason, e.Charged);
}
