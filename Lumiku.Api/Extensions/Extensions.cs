using Lumiku.Api.Apis;
using Lumiku.Api.Auth;
using Lumiku.Api.RateLimiting;

namespace Lumiku.Api.Extensions;

/// <summary>Everything the api registers beyond the service defaults.</summary>
public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddGenerationStore();
        builder.AddLumikuAuth();
        builder.AddLumikuRateLimits();
        builder.AddRequestBodyLimit();

        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<StoreUnavailableExceptionHandler>();
        // Always throw on bad requests so the handler above explains them, in every environment.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddValidation();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<ApiTelemetry>();
        builder.Services.AddSingleton<Presets.PresetCatalog>();
        builder.Services.AddSingleton<Apis.GenerationEventHub>();
        return builder;
    }
}
