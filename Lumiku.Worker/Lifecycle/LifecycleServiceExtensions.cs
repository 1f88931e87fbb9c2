using Lumiku.Worker.Lifecycle;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the lifecycle sweeps (retention, orphan images, gone consumers, dead-letter cap) and their options.</summary>
public static class LifecycleServiceExtensions
{
    public static TBuilder AddLifecycleSweeps<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<LifecycleOptions>()
            .BindConfiguration(LifecycleOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<RetentionSweep>();
        builder.Services.AddHostedService<OrphanImageSweep>();
        builder.Services.AddHostedService<ConsumerSweep>();
        builder.Services.AddHostedService<DeadLetterTrim>();
        return builder;
    }
}
