using Lumiku.Worker;
using Lumiku.Worker.Queue;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the stream consumer in its parts (read loop, job steps, takeover and claim refresher,
/// deferral policy, delayed-job mover, deadline sweeper, job cancellations and the slots announced for the api's start estimate), its heartbeat health check and the worker's telemetry.
/// </summary>
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
        builder.Services.AddSingleton<InFlightEntries>();
        builder.Services.AddSingleton<IntakeGate>();
        builder.Services.AddSingleton<DeferralPolicy>();
        builder.Services.AddSingleton<JobCancellations>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobCancellations>());
        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddSingleton<AbandonedEntryTakeover>();
        builder.Services.AddHostedService<GenerationConsumer>();
        builder.Services.AddHostedService<ClaimRefresher>();
        builder.Services.AddHostedService<DelayedJobMover>();
        builder.Services.AddHostedService<DeadlineSweeper>();
        builder.Services.AddHostedService<SlotsAnnouncer>();
        builder.Services.AddHostedService<StreamTrimmer>();
        builder.Services.AddHostedService<QueueGauges>();
        return builder;
    }
}
