using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Api.RateLimiting;
using Lumiku.Generation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/credits/ledger</c>: the caller's whole ledger, newest first, a page at a time.</summary>
public static class LedgerApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapLedgerApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/credits/ledger")
            .WithTags("Credits")
            .RequireAuthorization()
            .MapGet("/", GetLedger)
            .WithName("GetLedger")
            .WithSummary("The caller's ledger, newest first (cursor-paged); its amounts add up to the balance")
            .RequireRateLimiting(RateLimitingExtensions.ListReadsPolicy)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    public static async Task<Results<Ok<LedgerPageResponse>, ValidationProblem>> GetLedger(
        ClaimsPrincipal user,
        GenerationStore store,
        [Range(1, MaxPageSize)] int limit = DefaultPageSize,
        [StringLength(64)] string? cursor = null)
    {
        if (!StreamCursor.TryParse(cursor, out var before, out var problem))
        {
            return problem;
        }

        var userId = user.UserId();
        var balance = await store.GetBalanceAsync(userId);
        var page = await store.GetLedgerPageAsync(userId, before, limit);
        return TypedResults.Ok(new LedgerPageResponse(balance, [.. page.Items.Select(LedgerEntryResponse.From)], page.Next?.ToString()));
    }
}

/// <summary>
/// A page of the ledger, newest first. The amounts of all pages add up to <c>balance</c> (read just
/// before the page: a job settled in between shows on the next read).
/// </summary>
public sealed record LedgerPageResponse(long Balance, IReadOnlyList<LedgerEntryResponse> Items, string? NextCursor);
