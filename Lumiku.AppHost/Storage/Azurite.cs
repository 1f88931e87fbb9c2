using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Azurite, Microsoft's storage emulator: the version we run and its well-known development account.</summary>
public static class Azurite
{
    /// <summary>The npm package version and the container image tag (the same release).</summary>
    public const string Version = "3.37.0";

    public const string Image = "azure-storage/azurite";

    public const string Registry = "mcr.microsoft.com";

    /// <summary>The blob port inside the container.</summary>
    public const int ContainerBlobPort = 10000;

    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's published development key: not a secret, it only opens the local emulator.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The repository folder <c>npm install --prefix</c> puts the package in (git-ignored; <c>.ci/run</c> fills it).</summary>
    public static string DefaultToolsPath(string repositoryRoot) => Path.Combine(repositoryRoot, ".tools", "azurite");

    /// <summary>The <c>azurite-blob</c> launcher inside a tools folder.</summary>
    public static string BlobLauncher(string toolsPath) => Path.Combine(toolsPath, "node_modules", ".bin", "azurite-blob");

    /// <summary>
    /// <c>azurite-blob</c>'s arguments. <c>--skipApiVersionCheck</c>: Azurite 3.37 refuses the newer API
    /// version Azure.Storage.Blobs 12.30 sends without it.
    /// </summary>
    public static IEnumerable<object> BlobArguments(object host, object port, string location) =>
        ["--skipApiVersionCheck", "--disableTelemetry", "--blobHost", host, "--blobPort", port, "--location", location];

    public const string BlobEndpointName = "blob";

    /// <summary>The connection string to Azurite's blob service behind <paramref name="endpoint"/> (on this machine).</summary>
    public static ReferenceExpression ConnectionStringExpression(EndpointReference endpoint) =>
        ReferenceExpression.Create(
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{endpoint.Property(EndpointProperty.Port)}/{AccountName};");

    /// <summary>The connection string for Azurite's blob service on 127.0.0.1:<paramref name="port"/>.</summary>
    public static string ConnectionString(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";
}
