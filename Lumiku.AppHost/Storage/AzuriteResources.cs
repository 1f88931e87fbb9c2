namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Azurite's blob service from the npm package (<c>azurite-blob</c>), for developers and CI without a
/// container runtime. Binds 127.0.0.1 on a port the orchestrator allocates; run mode only, never published.
/// </summary>
public sealed class LocalAzuriteResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    private EndpointReference? _blobEndpoint;

    public EndpointReference BlobEndpoint => _blobEndpoint ??= new(this, Azurite.BlobEndpointName);

    public ReferenceExpression ConnectionStringExpression => Azurite.ConnectionStringExpression(BlobEndpoint);
}

/// <summary>Azurite's blob service as the <c>mcr.microsoft.com/azure-storage/azurite</c> container.</summary>
public sealed class AzuriteContainerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    private EndpointReference? _blobEndpoint;

    public EndpointReference BlobEndpoint => _blobEndpoint ??= new(this, Azurite.BlobEndpointName);

    public ReferenceExpression ConnectionStringExpression => Azurite.ConnectionStringExpression(BlobEndpoint);
}
