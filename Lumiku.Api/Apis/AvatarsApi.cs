using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/avatars</c>: the images of succeeded generations.</summary>
public static class AvatarsApi
{
    public static RouteGroupBuilder MapAvatarsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/avatars")
            .WithTags("Avatars")
            .RequireAuthorization();

        api.MapGet("/{id}/image", GetAvatarImage)
            .WithName("GetAvatarImage")
            .WithSummary("The avatar's image bytes, with their content type");
        return api;
    }

    public static async Task<Results<FileStreamHttpResult, NotFound<ProblemDetails>>> GetAvatarImage(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        CancellationToken cancellationToken)
    {
        var record = await GenerationsApi.FindOwnedAsync(services.Store, id, user);
        if (record is null || !record.HasImage)
        {
            return GenerationsApi.NotFoundProblem(id);
        }

        var image = await services.Images.OpenAsync(id, cancellationToken);
        if (image is null)
        {
            return GenerationsApi.NotFoundProblem(id);
        }

        return TypedResults.Stream(image.Content, image.ContentType, fileDownloadName: null, lastModified: record.CompletedAt, enableRangeProcessing: false);
    }
}
