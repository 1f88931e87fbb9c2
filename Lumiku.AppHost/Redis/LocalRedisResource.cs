namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A <c>redis-server</c> process on this machine, for developers and CI without a container runtime.
/// Binds 127.0.0.1 on a port the orchestrator allocates; run mode only, never published.
/// </summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    /// <summary><c>host:port</c>, the StackExchange.Redis form Aspire's Redis client integration reads.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}");
}
