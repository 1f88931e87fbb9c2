using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Api.Presets;
using Lumiku.Api.RateLimiting;
using Lumiku.Generation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/avatars</c>: the images of succeeded generations (an avatar's id is its generation's id).</summary>
public static partial class AvatarsApi
{
    /// <summary>An avatar's bytes never change, so browsers may keep them; only for this user.</summary>
    public const string ImageCacheControl = "private, max-age=31536000, immutable";

    public static RouteGroupBuilder MapAvatarsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/avatars")
            .WithTags("Avatars")
            .RequireAuthorization();

        api.MapGet("/", ListAvatars)
            .WithName("ListAvatars")
            .WithSummary("The caller's avatars, newest first (cursor-paged)")
            .RequireRateLimiting(RateLimitingExtensions.ListReadsPolicy)
            .ProducesValidationProblem();
        api.MapGet("/{id}", GetAvatar)
            .WithName("GetAvatar")
            .WithSummary("One avatar")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/image", GetAvatarImage)
            .WithName("GetAvatarImage")
            .WithSummary("The avatar's image bytes, with their content type, an ETag and private immutable caching")
            .WithDescription("download=true adds a Content-Disposition attachment header with a file name.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{id}", RenameAvatar)
            .WithName("RenameAvatar")
            .WithSummary("Rename an avatar")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}", DeleteAvatar)
            .WithName("DeleteAvatar")
            .WithSummary("Delete an avatar and its image")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<AvatarListResponse>, ProblemHttpResult>> ListAvatars(
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        [Range(1, GenerationsApi.MaxPageSize)] int limit = GenerationsApi.DefaultPageSize,
        [StringLength(128)] string? cursor = null)
    {
        if (!GenerationsApi.TryParseCursor(cursor, out var after, out var problem))
        {
            return problem;
        }

        var page = await services.Store.ListAsync(user.UserId(), after, limit, GenerationFilter.Avatars);
        return TypedResults.Ok(new AvatarListResponse([.. page.Items.Select(AvatarResponse.From)], page.Next?.Encode()));
    }

    public static async Task<Results<Ok<AvatarResponse>, ProblemHttpResult>> GetAvatar(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        return record is { HasImage: true } ? TypedResults.Ok(AvatarResponse.From(record)) : NotFoundProblem(id);
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetAvatarImage(
        string id,
        ClaimsPrincipal user,
        HttpContext http,
        [AsParameters] GenerationServices services,
        CancellationToken cancellationToken,
        bool download = false)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        if (record is null || !record.HasImage)
        {
            return NotFoundProblem(id);
        }

        var image = await services.Images.OpenAsync(id, cancellationToken);
        if (image is null)
        {
            LogImageMissing(services.Logger, id);
            return NotFoundProblem(id);
        }

        // The stream result answers If-None-Match with 304 and disposes the stream either way.
        http.Response.Headers.CacheControl = ImageCacheControl;
        return TypedResults.Stream(
            image.Content,
            image.ContentType,
            fileDownloadName: download ? DownloadName(record, image.ContentType) : null,
            lastModified: record.CompletedAt,
            entityTag: new EntityTagHeaderValue($"\"{record.Id}-{record.ImageBytes}\""),
            enableRangeProcessing: false);
    }

    public static async Task<Results<Ok<AvatarResponse>, ProblemHttpResult>> RenameAvatar(
        string id,
        RenameAvatarRequest request,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        if (record is not { HasImage: true })
        {
            return NotFoundProblem(id);
        }

        var name = request.Name?.Trim() is { Length: > 0 } trimmed ? trimmed : null;
        if (!await services.Store.RenameAsync(id, user.UserId(), name))
        {
            return NotFoundProblem(id);
        }

        return TypedResults.Ok(AvatarResponse.From(record with { Name = name }));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAvatar(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        CancellationToken cancellationToken)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        if (record is not { HasImage: true } || !await services.Store.DeleteAvatarAsync(id, user.UserId()))
        {
            return NotFoundProblem(id);
        }

        // The record goes first, so no record ever points at a missing file; at worst a file is orphaned.
        await services.Images.DeleteAsync(id, cancellationToken);
        LogDeleted(services.Logger, id);
        return TypedResults.NoContent();
    }

    public static ProblemHttpResult NotFoundProblem(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Avatar not found",
        detail: $"There is no avatar '{id}' for this user.");

    private static string DownloadName(GenerationRecord record, string contentType)
    {
        var extension = contentType switch
        {
            "image/jpeg" => ".jpg",
            "image/webp" => ".webp",
            _ => ".png",
        };
        var stem = new string((record.Name ?? "avatar-" + record.Id[..8]).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        return stem.Trim('-') is { Length: > 0 } clean ? clean + extension : record.Id + extension;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar {GenerationId} is succeeded but its image is missing from the image store")]
    private static partial void LogImageMissing(ILogger logger, string generationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Avatar {GenerationId} deleted by its user")]
    private static partial void LogDeleted(ILogger logger, string generationId);
}

/// <summary>The body of <c>PATCH /v1/avatars/{id}</c>.</summary>
public sealed class RenameAvatarRequest : IValidatableObject
{
    /// <summary>The new name (at most 100 characters); empty or null removes it.</summary>
    [StringLength(100)]
    public string? Name { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Name is not null && Name.Any(char.IsControl))
        {
            yield return new ValidationResult("The name must not contain control characters.", [nameof(Name)]);
        }
    }
}

/// <summary>An avatar: a succeeded generation and its image.</summary>
/// <param name="Prompt">The prompt the model was given (with a preset: the preset's expanded template).</param>
/// <param name="UserPrompt">What the user typed (with a preset: the subject inside the template).</param>
public sealed record AvatarResponse(
    string Id,
    string? Name,
    string Prompt,
    string UserPrompt,
    string? PresetId,
    string Model,
    bool FellBack,
    int Width,
    int Height,
    string ContentType,
    long Bytes,
    int Charged,
    string ImageUrl,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt)
{
    public static AvatarResponse From(GenerationRecord r) => new(
        r.Id,
        r.Name,
        r.Prompt,
        AvatarPresets.Find(r.PresetId)?.SubjectOf(r.Prompt) ?? r.Prompt,
        r.PresetId,
        FluxModels.AliasOf(r.ModelUsed ?? r.Model),
        r.FellBack,
        r.Width,
        r.Height,
        r.ImageContentType ?? "image/png",
        r.ImageBytes,
        r.Charged,
        $"/v1/avatars/{r.Id}/image",
        r.CreatedAt,
        r.CompletedAt);
}

/// <summary>A page of avatars and the cursor of the next page (null on the last).</summary>
public sealed record AvatarListResponse(IReadOnlyList<AvatarResponse> Items, string? NextCursor);
