using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Lumiku.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Aspire service defaults: telemetry, health checks, service discovery and resilience for every Lumiku service.</summary>
public static class Extensions
{
    /// <summary>The prefix every Lumiku ActivitySource and Meter name starts with.</summary>
    public const string TelemetryPrefix = "Lumiku.";

    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();

        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();

        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Clients that need other sizes remove this one and add their own (the Flux client: a job handler
            // around a standard handler sized for image generation; Lumiku.Worker/Flux/README.md).
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(TelemetryPrefix + "*");
            })
            .WithTracing(tracing =>
            {
                // Idle polling is not traced: Redis commands without a parent span are dropped.
                tracing.SetSampler(new RootRedisCommandSampler(new ParentBasedSampler(new AlwaysOnSampler())))
                    .AddSource(builder.Environment.ApplicationName)
                    .AddSource(TelemetryPrefix + "*")
                    .AddAspNetCoreInstrumentation(options =>
                        // Health probes would drown the traces ops care about.
                        options.Filter = context =>
                            !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                            && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                    .AddHttpClientInstrumentation();
            });

        builder.AddOpenTelemetryExporters();

        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var useOtlpExporter = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        if (useOtlpExporter)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        // Telemetry:ExportPath: spans and Lumiku metrics as JSON lines, for inspection without a
        // collector (the end-to-end telemetry tests read them).
        if (builder.Configuration["Telemetry:ExportPath"] is { Length: > 0 } exportPath)
        {
            Directory.CreateDirectory(exportPath);
            var service = builder.Environment.ApplicationName;
            builder.Services.AddOpenTelemetry()
                .WithTracing(t => t.AddProcessor(new SimpleActivityExportProcessor(new JsonLinesSpanExporter(Path.Combine(exportPath, service + ".spans.jsonl")))))
                .WithMetrics(m => m.AddReader(new PeriodicExportingMetricReader(new JsonLinesMetricExporter(Path.Combine(exportPath, service + ".metrics.jsonl")), 500)
                {
                    TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
                }));
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            // The "live" tag marks checks that say the process itself is responsive.
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        return builder;
    }

    /// <summary>Maps <c>/health</c> (every check: ready to serve) and <c>/alive</c> (live checks only).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Exposed in every environment: the orchestrator and container platforms probe them.
        // They reveal only Healthy/Unhealthy, never check details.
        app.MapHealthChecks(HealthEndpointPath);

        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live")
        });

        return app;
    }
}
