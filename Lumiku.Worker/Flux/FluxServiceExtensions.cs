using System.Net.Http.Headers;
using System.Reflection;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Flux.Providers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the Flux client. Its HttpClient handlers, outermost first:
/// <list type="number">
/// <item>service discovery (from the service defaults: resolves <c>http://inference/</c> once per call);</item>
/// <item>the job handler (<see cref="FluxResiliencePipeline.ConfigureJob"/>): the job's total timeout → the FLUX.1-dev→schnell fallback → the provider failover;</item>
/// <item>the standard resilience handler, one pipeline per provider, sized for image generation (<see cref="FluxResiliencePipeline.ConfigureStandard"/>):
/// rate limiter → per-model total timeout → retry → circuit breaker → attempt timeout;</item>
/// <item><see cref="FluxAttemptTelemetryHandler"/>: times each attempt the pipeline lets through;</item>
/// <item><see cref="FluxResponseBufferingHandler"/>: reads the whole answer inside the attempt;</item>
/// <item><see cref="FluxProviderAnswerHandler"/>: the provider's image URL fetched inside the attempt.</item>
/// </list>
/// The service defaults' own standard handler (10 s attempt, 30 s total) is removed first: it would
/// cut every FLUX.1-dev call short, and two stacked retry layers multiply attempts. Flux/README.md says why this order.
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
        builder.Services.AddSingleton<IValidateOptions<FluxOptions>, FluxVisibilityTimeoutValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<FluxTelemetry>();
        builder.Services.TryAddTransient<ModelProbe>();
        builder.Services.TryAddTransient<FluxAttemptTelemetryHandler>();
        builder.Services.TryAddTransient<FluxResponseBufferingHandler>();
        builder.Services.TryAddTransient<FluxProviderAnswerHandler>();

        var http = builder.Services.AddHttpClient<IFluxClient, FluxClient>((services, client) =>
        {
            var options = services.GetRequiredService<IOptions<FluxOptions>>().Value;
            // The router's root: hf-inference's routes keep their prefix, every other provider has its own.
            client.BaseAddress = options.RouterRoot;
            // The pipeline's timeouts govern; HttpClient's own 100 s would fire first and look like a cancellation.
            client.Timeout = Timeout.InfiniteTimeSpan;
            if (!string.IsNullOrWhiteSpace(options.Token))
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
            }

            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Lumiku", Version));
            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("(avatar-worker)"));
        });

#pragma warning disable EXTEXP0001 // Experimental API; removing the service defaults' standard handler from this one client is deliberate (see above).
        http.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        // Handlers added first are outermost: the job's budget and fallback around the per-model standard handler.
        http.AddResilienceHandler(FluxResiliencePipeline.Name, FluxResiliencePipeline.ConfigureJob);
        // One standard pipeline per provider (its own retry budget and, above all, its own circuit breaker):
        // a provider that is down opens its breaker only, and the failover moves on to the next.
        var standard = http.AddStandardResilienceHandler().Configure(FluxResiliencePipeline.ConfigureStandard);
        standard.SelectPipelineBy(_ => request => request.Options.TryGetValue(FluxCallState.Key, out var call) ? call.Provider.Name : "");
        // Rebuilt when the Flux section changes, like the job handler.
        builder.Services.AddSingleton<IOptionsChangeTokenSource<HttpStandardResilienceOptions>>(
            new ConfigurationChangeTokenSource<HttpStandardResilienceOptions>(standard.PipelineName, builder.Configuration.GetSection(FluxOptions.SectionName)));
        // Inside the resilience handlers: one measurement per attempt, and the body read within the attempt.
        http.AddHttpMessageHandler<FluxAttemptTelemetryHandler>();
        http.AddHttpMessageHandler<FluxResponseBufferingHandler>();
        // Innermost: a provider's image URL is fetched inside the same attempt.
        http.AddHttpMessageHandler<FluxProviderAnswerHandler>();
        return builder;
    }

    private static string Version { get; } =
        (typeof(FluxClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0")
        .Split('+')[0];
}
