using Lumiku.Worker;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Queue;

if (args is [ModelProbe.CommandName, ..])
{
    return await ModelProbe.RunCommandAsync(args[1..], Console.Out);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGenerationStore();
builder.AddFluxClient();
builder.AddFluxFallbackTracing();
builder.AddGenerationConsumer();
builder.AddWebhookDelivery();
builder.AddLifecycleSweeps();

var app = builder.Build();

app.MapDefaultEndpoints();

if (app.Environment.IsDevelopment())
{
    app.MapProbeEndpoint();
}

await app.RunAsync();

// A background service that failed stopped the host: exit non-zero so restart-on-failure brings it back.
return app.Services.GetServices<IHostedService>().OfType<BackgroundService>().Any(s => s.ExecuteTask is { IsFaulted: true }) ? 1 : 0;
