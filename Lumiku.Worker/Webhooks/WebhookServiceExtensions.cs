using Lumiku.Worker.Webhooks;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the webhook delivery service and its sender (the outbox, secrets and options come with the generation store).</summary>
public static class WebhookServiceExtensions
{
    public static TBuilder AddWebhookDelivery<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddHostedService<WebhookDeliveryService>();
        return builder;
    }
}
