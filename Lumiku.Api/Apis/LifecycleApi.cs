using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary>Deleting what a user owns: one generation (<c>DELETE /v1/generations/{id}</c>) or everything (<c>DELETE /v1/me</c>).</summary>
public static partial class LifecycleApi
{
    public static IEndpointRouteBuilder MapLifecycleApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/generations")
            .WithTags("Generations")
            .RequireAuthorization()
            .MapDelete("/{id}", DeleteGeneration)
            .WithName("DeleteGeneration")
            .WithSummary("Delete a finished generation (succeeded, failed or canceled) and its image")
            .WithDescription("A queued or processing generation answers 409 with its status (generationStatus): cancel it first, or wait.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        app.MapGroup("/v1/me")
            .WithTags("Account")
            .RequireAuthorization()
            .MapDelete("/", DeleteMe)
            .WithName("DeleteMe")
            .WithSummary("Delete the caller's generations, avatars and images; the ledger is kept under a tombstone for accounting")
            .WithDescription("Answers what was deleted and what was kept. While a generation is queued or processing it answers 409 (finished ones are deleted already); cancel or wait, then call again.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteGeneration(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        CancellationToken cancellationToken)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        if (record is null)
        {
            return GenerationsApi.NotFoundProblem(id);
        }

        var result = await services.Store.DeleteGenerationAsync(id, record.UserId);
        switch (result.Outcome)
        {
            case DeleteOutcome.Missing:
                return GenerationsApi.NotFoundProblem(id);
            case DeleteOutcome.Unfinished:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "The generation is not finished",
                    detail: $"The generation is {result.Status}; cancel it first, or wait until it has finished.",
                    type: "https://lumiku.dev/problems/not-finished",
                    extensions: new Dictionary<string, object?> { ["generationStatus"] = result.Status });
        }

        // The record goes first, so no record ever points at a missing image; at worst one is orphaned (swept).
        await services.Images.DeleteAsync(id, cancellationToken);
        LogDeleted(services.Logger, id, record.Status);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<AccountDeletionResponse>, ProblemHttpResult>> DeleteMe(
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        CancellationToken cancellationToken)
    {
        var deletion = await services.Store.DeleteUserAsync(user.UserId(), services.Images, cancellationToken);
        if (!deletion.Deleted)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Generations are still running",
                detail: $"{deletion.Unfinished} generation(s) are queued or processing; cancel them or wait, then call again. {deletion.Generations} finished generation(s) were deleted.",
                type: "https://lumiku.dev/problems/account-busy",
                extensions: new Dictionary<string, object?> { ["unfinished"] = deletion.Unfinished, ["deletedGenerations"] = deletion.Generations });
        }

        LogAccountDeleted(services.Logger, deletion.Tombstone!, deletion.Generations);
        return TypedResults.Ok(new AccountDeletionResponse(
            deletion.Generations,
            new KeptRecords(
                "ledger",
                deletion.Tombstone!,
                deletion.LedgerEntries,
                deletion.Forfeited,
                "The credit ledger is kept for accounting under a tombstone instead of your user id, closed with a line that zeroes the balance.")));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} ({Status}) deleted by its user")]
    private static partial void LogDeleted(ILogger logger, string generationId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Account deleted: {Generations} generations; ledger kept as tombstone {Tombstone}")]
    private static partial void LogAccountDeleted(ILogger logger, string tombstone, int generations);
}

/// <summary>What <c>DELETE /v1/me</c> deleted (generations with their images) and what it kept.</summary>
public sealed record AccountDeletionResponse(int DeletedGenerations, KeptRecords Kept);

/// <summary>The records kept after an account is deleted: the ledger, under a tombstone, with its entry count and the balance closed out.</summary>
public sealed record KeptRecords(string What, string Tombstone, int LedgerEntries, long ForfeitedBalance, string Why);
