using System.Text.Json;
using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Api;

/// <summary>The OpenAPI document the api serves lists every /v1 endpoint it maps.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class OpenApiTests(LumikuApp app)
{
    private static readonly string[] Expected =
    [
        "POST /v1/generations",
        "GET /v1/generations",
        "GET /v1/generations/{id}",
        "POST /v1/generations/{id}/cancel",
        "GET /v1/generations/{id}/events",
        "GET /v1/generations/{id}/webhook-deliveries",
        "GET /v1/webhooks/secret",
        "POST /v1/webhooks/secret/rotate",
        "GET /v1/avatars",
        "GET /v1/avatars/{id}",
        "GET /v1/avatars/{id}/image",
        "PATCH /v1/avatars/{id}",
        "DELETE /v1/avatars/{id}",
        "GET /v1/presets",
        "GET /v1/credits",
        "POST /v1/admin/credits",
        "GET /v1/credits/ledger",
        "DELETE /v1/generations/{id}",
        "DELETE /v1/me",
        "GET /v1/admin/dead-letters",
        "POST /v1/admin/dead-letters/{entryId}/redrive",
    ];

    [Fact]
    public async Task ServedDocument_ListsEveryMappedV1Endpoint()
    {
        using var client = app.App.CreateHttpClient("api");
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var documented = new HashSet<string>(
            from path in document.RootElement.GetProperty("paths").EnumerateObject()
            from operation in path.Value.EnumerateObject()
            select $"{operation.Name.ToUpperInvariant()} {path.Name}");

        // What the api really maps, read from its endpoint data source.
        var redis = await app.App.GetConnectionStringAsync("redis");
        await using var api = new InProcessApi("Development", redis!);
        using var _ = api.CreateClient();
        var mapped = api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/v1", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText!.TrimEnd('/')}"))
            .ToHashSet();

        Assert.Equal(Expected.Order(), mapped.Order());
        Assert.All(mapped, endpoint => Assert.Contains(endpoint, documented));
    }
}
