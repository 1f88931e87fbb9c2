using System.Security.Claims;
using Lumiku.Api.Auth;
using Lumiku.Generation;
using Lumiku.Generation.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary>
/// <c>/v1/webhooks</c>: the caller's signing secret (created on first read) and its rotation; and
/// <c>/v1/generations/{id}/webhook-deliveries</c>: how a generation's webhooks went.
/// </summary>
public static partial class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/v1/webhooks")
            .WithTags("Webhooks")
            .RequireAuthorization();
        webhooks.MapGet("/secret", GetSecret)
            .WithName("GetWebhookSecret")
            .WithSummary("The secret that signs the caller's webhooks (whsec_…), created on first read");
        webhooks.MapPost("/secret/rotate", RotateSecret)
            .WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret; the old one keeps signing beside it until previousValidUntil (24 h)");

        app.MapGroup("/v1/generations")
            .WithTags("Webhooks")
            .RequireAuthorization()
            .MapGet("/{id}/webhook-deliveries", GetDeliveries)
            .WithName("GetWebhookDeliveries")
            .WithSummary("The generation's webhook events: state, attempts (time, status code, error) and next try")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<WebhookSecretResponse>> GetSecret(ClaimsPrincipal user, WebhookSecrets secrets) =>
        TypedResults.Ok(new WebhookSecretResponse(await secrets.GetOrCreateAsync(user.UserId()), null));

    public static async Task<Ok<WebhookSecretResponse>> RotateSecret(ClaimsPrincipal user, WebhookSecrets secrets, ILoggerFactory loggers)
    {
        var userId = user.UserId();
        var (secret, until) = await secrets.RotateAsync(userId);
        LogRotated(loggers.CreateLogger(typeof(WebhooksApi).FullName!), userId, until);
        return TypedResults.Ok(new WebhookSecretResponse(secret, until));
    }

    public static async Task<Results<Ok<WebhookDeliveriesResponse>, ProblemHttpResult>> GetDeliveries(
        string id,
        ClaimsPrincipal user,
        GenerationStore store,
        WebhookStore webhooks)
    {
        var record = await GenerationsApi.FindOwnedAsync(store, id, user);
        return record is null
            ? GenerationsApi.NotFoundProblem(id)
            : TypedResults.Ok(new WebhookDeliveriesResponse(record.Webhook, await webhooks.ListDeliveriesAsync(id)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook secret of {UserId} rotated; the previous one signs too until {Until:o}")]
    private static partial void LogRotated(ILogger logger, string userId, DateTimeOffset until);
}

/// <summary>A signing secret; after a rotation, until when the previous one still signs.</summary>
public sealed record WebhookSecretResponse(string Secret, DateTimeOffset? PreviousValidUntil);

/// <summary>A generation's webhook and its events in order.</summary>
public sealed record WebhookDeliveriesResponse(string? Webhook, IReadOnlyList<WebhookDelivery> Items);
