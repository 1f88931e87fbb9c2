using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary>
/// <c>GET /dev/about</c>: what paints the images in this run (the AppHost sets
/// <c>Inference:Provider</c>), so the page can say that a local stand-in ignores the prompt. Development only.
/// </summary>
public static class DevAboutApi
{
    public const string ProviderSetting = "Inference:Provider";

    public static IEndpointRouteBuilder MapDevAboutApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dev/about", About)
            .WithTags("Development")
            .WithName("DevAbout")
            .WithSummary("Which image provider this run uses (Development only)")
            .AllowAnonymous();
        return app;
    }

    public static Ok<DevAboutResponse> About(IConfiguration configuration) =>
        TypedResults.Ok(new DevAboutResponse(configuration[ProviderSetting] ?? "unknown"));
}

/// <summary><c>emulator</c> (the local stand-in), <c>huggingface</c>, or <c>unknown</c> outside the AppHost.</summary>
public sealed record DevAboutResponse(string Provider);
