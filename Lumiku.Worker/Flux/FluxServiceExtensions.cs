using System.Net.Http.Headers;
using System.Reflection;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the Flux client. Its HttpClient handlers, outermost first:
/// <list type="number">
/// <item>service discovery (from the service defaults: resolves <c>http://inference/</c> once per call);</item>
/// <item>the "flux" resilience handler: rate limiter → total timeout → FLUX.1-dev→schnell fallback →
/// retry → circuit breaker → attempt timeout (Flux/README.md says why this order);</item>
/// <item><see cref="FluxAttemptTelemetryHandler"/>: times each attempt the pipeline lets through.</item>
/// </list>
/// The service defaults' standard handler is removed on purpose: its 10 s attempt and 30 s total
/// timeouts would cut every FLUX.1-dev call short, and stacking two retry layers multiplies attempts.
/// </summary>
public static class FluxServiceExtensions
{
    public static TBuilder AddFluxClient<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<FluxOptions>()
            .BindConfiguration(FluxOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FluxOptions>, FluxOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<FluxTelemetry>();
        builder.Services.TryAddTransient<ModelProbe>();
        builder.Services.TryAddTransient<FluxAttemptTelemetryHandler>();

        var http = builder.Services.AddHttpClient<IFluxClient, FluxClient>((services, client) =>
        {
            var options = services.GetRequiredService<IOptions<FluxOptions>>().Value;
            client.BaseAddress = options.BaseUrl;
            // The pipeline's timeouts govern; HttpClient's own 100 s would fire first and look like a cancellation.
            client.Timeout = Timeout.InfiniteTimeSpan;
            if (!string.IsNullOrWhiteSpace(options.Token))
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
            }

            // Without an explicit image accept the route has answered 400.
            client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("image/png"));
            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Lumiku", Version));
            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("(avatar-worker)"));
        });

#pragma warning disable EXTEXP0001 // Experimental API; removing the service defaults' standard handler from this one client is deliberate (see above).
        http.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        http.AddResilienceHandler(FluxResiliencePipeline.Name, FluxResiliencePipeline.Configure);
        // Added after the resilience handler, so it is inside it: one measurement per attempt.
        http.AddHttpMessageHandler<FluxAttemptTelemetryHandler>();
        return builder;
    }

    private static string Version { get; } =
        (typeof(FluxClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0")
        .Split('+')[0];
}
