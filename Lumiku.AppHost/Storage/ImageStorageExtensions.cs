using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// Where api and worker keep avatar images, chosen by <c>Storage:Mode</c>: <c>files</c> (one folder both
/// reach, the zero-dependency default of <c>dotnet run</c>) or <c>blob</c> (Azure Blob Storage, Azurite in run
/// mode). Publishing always describes blob storage, its connection string a secret, so api and worker can
/// run on several hosts.
/// </summary>
public static class ImageStorageExtensions
{
    public const string ModeKey = "Storage:Mode";
    public const string ImagesPathKey = "Storage:ImagesPath";

    /// <summary><c>container</c> | <c>local</c> | <c>auto</c>, as <c>Redis:Mode</c>.</summary>
    public const string AzuriteModeKey = "Storage:Azurite";
    public const string AzuriteDataPathKey = "Storage:AzuriteDataPath";
    public const string AzuriteToolsPathKey = "Storage:AzuriteToolsPath";

    public static ImageStorage AddLumikuImageStorage(this IDistributedApplicationBuilder builder, string name)
    {
        var configuration = builder.Configuration;
        var mode = builder.ExecutionContext.IsPublishMode ? "blob" : (configuration[ModeKey] ?? "files").Trim().ToLowerInvariant();
        switch (mode)
        {
            case "files":
                var imagesPath = Path.GetFullPath(configuration[ImagesPathKey] is { Length: > 0 } configured
                    ? configured
                    : Path.Combine(builder.AppHostDirectory, ".data", "images"));
                LogAtStart(builder, "Images are files in {Path}", imagesPath);
                return new ImageStorage(imagesPath, Blob: null, StartedHere: false);
            case "blob" when builder.ExecutionContext.IsPublishMode || !string.IsNullOrWhiteSpace(configuration.GetConnectionString(name)):
                // A real storage account: the deployment (or ConnectionStrings:{name} in run mode) supplies it.
                return new ImageStorage(null, builder.AddConnectionString(name), StartedHere: false);
            case "blob":
                return new ImageStorage(null, builder.AddAzurite(name), StartedHere: true);
            default:
                throw new DistributedApplicationException($"{ModeKey} must be 'files' or 'blob', not '{mode}'.");
        }
    }

    /// <summary>The same image store for every project that gets it: the folder, or the blob connection string.</summary>
    public static IResourceBuilder<ProjectResource> WithImageStorage(this IResourceBuilder<ProjectResource> project, ImageStorage storage)
    {
        if (storage.Blob is not { } blob)
        {
            return project.WithEnvironment("Images__Path", storage.ImagesPath);
        }

        project.WithEnvironment("Storage__Mode", "blob").WithReference(blob);
        return storage.StartedHere ? project.WaitFor(blob) : project;
    }

    private static IResourceBuilder<IResourceWithConnectionString> AddAzurite(this IDistributedApplicationBuilder builder, string name)
    {
        var configuration = builder.Configuration;
        var azuriteMode = (configuration[AzuriteModeKey] ?? "auto").Trim().ToLowerInvariant();
        var inContainer = azuriteMode switch
        {
            "container" => true,
            "local" => false,
            "auto" => RedisModeExtensions.ContainerRuntimeAnswers(),
            _ => throw new DistributedApplicationException($"{AzuriteModeKey} must be 'container', 'local' or 'auto', not '{azuriteMode}'."),
        };

        var healthCheckKey = $"{name}_check";
        if (inContainer)
        {
            LogAtStart(builder, "Images are blobs in Azurite, as a {Kind}", "container");
            var container = builder.AddResource(new AzuriteContainerResource(name))
                .WithImage(Azurite.Image, Azurite.Version)
                .WithImageRegistry(Azurite.Registry)
                .WithArgs(["azurite-blob", .. Azurite.BlobArguments("0.0.0.0", Azurite.ContainerBlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "/data")])
                .WithHttpEndpoint(targetPort: Azurite.ContainerBlobPort, name: Azurite.BlobEndpointName)
                .WithVolume("lumiku-azurite-data", "/data")
                .WithHealthCheck(healthCheckKey);
            AddBlobHealthCheck(builder, container.Resource, healthCheckKey);
            return container;
        }

        var toolsPath = Path.GetFullPath(configuration[AzuriteToolsPathKey] is { Length: > 0 } tools
            ? tools
            : Azurite.DefaultToolsPath(Path.Combine(builder.AppHostDirectory, "..")));
        var dataPath = Path.GetFullPath(configuration[AzuriteDataPathKey] is { Length: > 0 } data
            ? data
            : Path.Combine(builder.AppHostDirectory, ".data", "azurite"));
        Directory.CreateDirectory(toolsPath);
        Directory.CreateDirectory(dataPath);

        var launcher = Azurite.BlobLauncher(toolsPath);
        LogAtStart(builder, "Images are blobs in Azurite, as a {Kind}", "local azurite-blob from npm in " + toolsPath);
        var resource = new LocalAzuriteResource(name, launcher, dataPath);
        var azurite = builder.AddResource(resource)
            .WithHttpEndpoint(name: Azurite.BlobEndpointName)
            .WithArgs(context =>
            {
                foreach (var argument in Azurite.BlobArguments("127.0.0.1", resource.BlobEndpoint.Property(EndpointProperty.TargetPort), dataPath))
                {
                    context.Args.Add(argument);
                }
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
        AddBlobHealthCheck(builder, resource, healthCheckKey);

        if (!File.Exists(launcher))
        {
            // First run on this machine: npm installs the package, and Azurite starts when it has.
            var npm = RedisModeExtensions.FindOnPath("npm") ?? throw new DistributedApplicationException(
                $"{ModeKey}=blob without a container runtime needs Azurite from npm, and 'npm' is not on PATH. Install Node.js " +
                $"(Debian/Ubuntu: apt-get install nodejs npm), or run npm install --prefix {toolsPath} azurite@{Azurite.Version}, or start Docker.");
            var install = builder.AddExecutable($"{name}-install", npm, toolsPath, "install", "--prefix", toolsPath, "--no-audit", "--no-fund", $"azurite@{Azurite.Version}")
                .ExcludeFromManifest();
            azurite.WaitForCompletion(install);
        }

        return azurite;
    }

    /// <summary>Healthy once the blob service answers an authenticated request with the connection string api and worker get.</summary>
    private static void AddBlobHealthCheck(IDistributedApplicationBuilder builder, IResourceWithConnectionString resource, string key)
    {
        BlobServiceClient? client = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(resource, async (_, ct) =>
        {
            var options = new BlobClientOptions();
            options.Retry.MaxRetries = 0;
            options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
            client = new BlobServiceClient(await resource.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false), options);
        });

        builder.Services.AddHealthChecks().AddAsyncCheck(key, async ct =>
        {
            if (client is null)
            {
                return HealthCheckResult.Unhealthy("Azurite has no connection string yet.");
            }

            try
            {
                await client.GetPropertiesAsync(ct).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or TaskCanceledException)
            {
                return HealthCheckResult.Unhealthy("Azurite's blob service does not answer yet.", e);
            }
        });
    }

    private static void LogAtStart(IDistributedApplicationBuilder builder, string message, string value) =>
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
#pragma warning disable CA2254 // The two templates are constants of this class.
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lumiku.AppHost").LogInformation(message, value);
#pragma warning restore CA2254
            return Task.CompletedTask;
        });
}

/// <summary>
/// The image store api and worker share: a folder (<see cref="ImagesPath"/>) or a blob connection string
/// (<see cref="Blob"/>; <see cref="StartedHere"/> when the AppHost runs the emulator, so projects wait for it).
/// </summary>
public sealed record ImageStorage(string? ImagesPath, IResourceBuilder<IResourceWithConnectionString>? Blob, bool StartedHere);
