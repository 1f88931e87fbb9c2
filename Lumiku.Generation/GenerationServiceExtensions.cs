using Lumiku.Generation.Credits;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the shared Redis data model: connection, store, credits and image store.</summary>
public static class GenerationServiceExtensions
{
    public static TBuilder AddGenerationStore<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Aspire's client integration: connection from ConnectionStrings:redis, health check, tracing.
        builder.AddRedisClient(RedisKeys.ConnectionName);

        builder.Services.AddOptions<CreditOptions>()
            .BindConfiguration(CreditOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Lumiku.Generation.GenerationStore>();
        builder.Services.TryAddSingleton<IImageStore, FileImageStore>();
        return builder;
    }
}
