using Azure.Storage.Blobs;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using Lumiku.Generation.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the shared Redis data model: connection, store, credits, webhook outbox and secrets, and image store (files or blob, <c>Storage:Mode</c>).</summary>
public static class GenerationServiceExtensions
{
    public static TBuilder AddGenerationStore<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Aspire's client integration: connection from ConnectionStrings:redis, health check, tracing.
        // Replies are read on the .NET thread pool instead of StackExchange.Redis's own socket threads:
        // one hand-off less per reply. Measured (docs/performance.md): worker -11 % and api -10 % CPU per
        // job. The dedicated threads protect apps that block pool threads on Redis calls; ours never do.
        builder.AddRedisClient(RedisKeys.ConnectionName, configureOptions: options => options.SocketManager = SocketManager.ThreadPool);

        builder.Services.AddOptions<CreditOptions>()
            .BindConfiguration(CreditOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Development allows http and private-network webhooks unless configuration says otherwise
        // (this Configure runs before the binding, so explicit settings win).
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<WebhookOptions>()
            .Configure(o => o.AllowHttp = o.AllowPrivateNetworks = development)
            .BindConfiguration(WebhookOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Lumiku.Generation.GenerationStore>();
        builder.Services.AddSingleton<WebhookStore>();
        builder.Services.AddSingleton<WebhookSecrets>();
        builder.AddImageStore();
        return builder;
    }

    /// <summary>
    /// The file store by default; with <c>Storage:Mode=blob</c> the blob store on <c>ConnectionStrings:images</c>,
    /// so api and worker on different hosts read and write the same images.
    /// </summary>
    private static void AddImageStore(this IHostApplicationBuilder builder)
    {
        var storage = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        if (!storage.UsesBlob)
        {
            builder.Services.TryAddSingleton<IImageStore, FileImageStore>();
            return;
        }

        var connectionString = builder.Configuration.GetConnectionString(StorageOptions.ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Storage:Mode=blob needs the connection string ConnectionStrings:{StorageOptions.ConnectionName} (the AppHost passes it to api and worker).");
        }

        builder.Services.TryAddSingleton(_ => new BlobServiceClient(connectionString));
        builder.Services.TryAddSingleton<IImageStore, BlobImageStore>();
    }
}
