using Lumiku.Api.Presets;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/presets</c>: the built-in avatar styles.</summary>
public static class PresetsApi
{
    public static RouteGroupBuilder MapPresetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/presets")
            .WithTags("Presets")
            .RequireAuthorization();

        api.MapGet("/", ListPresets)
            .WithName("ListPresets")
            .WithSummary("Built-in styles; send presetId with a prompt that names the subject");
        return api;
    }

    public static Ok<IReadOnlyList<AvatarPreset>> ListPresets(PresetCatalog presets) => TypedResults.Ok(presets.All);
}
