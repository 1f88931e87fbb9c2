using Lumiku.Worker;
using Lumiku.Worker.Queue;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the stream consumer, its heartbeat health check and the worker's telemetry.</summary>
public static class ConsumerServiceExtensions
{
    public static TBuilder AddGenerationConsumer<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WorkerTelemetry>();
        builder.Services.AddSingleton<ConsumerHeartbeat>();
        builder.Services.AddHealthChecks().AddCheck<ConsumerHeartbeat>("consume-loop");
        builder.Services.AddHostedService<GenerationConsumer>();
        builder.Services.AddHostedService<StreamTrimmer>();
        builder.Services.AddHostedService<QueueGauges>();
        return builder;
    }
}
