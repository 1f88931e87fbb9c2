using System.Reflection;
using Lumiku.Generation;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Flux.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;

namespace Lumiku.Tests.Flux;

/// <summary>
/// The Flux client's resilience handlers as built in production: the job's handler (total timeout,
/// fallback) around the standard resilience handler, and what each one may and may not do.
/// </summary>
public sealed class FluxPipelineTests
{
    private const string ClientName = nameof(IFluxClient);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FluxRequest Dev(bool allowFallback = true) =>
        new("A professional headshot of a 25-year-old woman", null, 512, 512, 42, FluxModels.Dev) { AllowFallback = allowFallback };

    [Fact]
    public async Task HandlerChain_IsTheJobHandler_AroundTheStandardHandler_AndNoOtherResilienceHandler()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator);

#pragma warning disable EXTEXP0001 // ResilienceHandler is experimental; the test only looks at which ones the chain holds.
        var chain = Chain(flux.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ClientName));

        // Outermost first, leaving out the factory's lifetime and logging wrappers and the primary handler.
        Assert.Equal(
            ["ResolvingHttpDelegatingHandler", nameof(ResilienceHandler), nameof(ResilienceHandler), nameof(FluxAttemptTelemetryHandler), nameof(FluxResponseBufferingHandler), nameof(FluxProviderAnswerHandler)],
            chain.Where(h => h is DelegatingHandler && h.GetType().Namespace is not ("Microsoft.Extensions.Http" or "Microsoft.Extensions.Http.Logging")).Select(h => h.GetType().Name));
        var resilience = chain.OfType<ResilienceHandler>().ToList();
#pragma warning restore EXTEXP0001

        // The outer one runs the job's pipeline, the inner one the standard handler's, as the registry holds them.
        Assert.Same(Registered(flux.Services, $"{ClientName}-{FluxResiliencePipeline.Name}"), PipelineOf(resilience[0]));
        Assert.Same(Registered(flux.Services, $"{ClientName}-standard"), PipelineOf(resilience[1]));

        // And the standard handler is sized for image generation, not the defaults' 10 s / 30 s.
        var standard = flux.Services.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get($"{ClientName}-standard");
        Assert.Equal(TimeSpan.FromMinutes(2), standard.AttemptTimeout.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(4), standard.TotalRequestTimeout.Timeout);
        Assert.Equal(0.8, standard.CircuitBreaker.FailureRatio);
    }

    [Fact]
    public async Task Dev400_IsNeitherRetriedNorCountedByTheBreaker_WhichStillOpensOnA503Storm()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:FallbackEnabled"] = "false",
            ["Flux:Resilience:MaxRetryAttempts"] = "2",
            ["Flux:Resilience:RetryDelay"] = "00:00:00.005",
            // A breaker this touchy would open after two 400s if it counted them.
            ["Flux:Resilience:CircuitBreakerMinimumThroughput"] = "2",
            ["Flux:Resilience:CircuitBreakerFailureRatio"] = "0.3",
        });

        for (var i = 0; i < 5; i++)
        {
            var refused = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));
            Assert.Equal(FluxErrorCodes.BadRequest, refused.Code);
        }

        // Five jobs, five requests: no retry, and the breaker let every one through.
        Assert.Equal(5, (await emulator.StatsAsync()).Count(FluxModels.Dev, 400));

        // The same breaker does count real outages: a 503 storm opens it, and then the provider is not asked.
        await emulator.SetFaultsAsync(new { Tier = "pro", Error503Rate = 1.0 });
        await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));
        var before = (await emulator.StatsAsync()).Total;
        var open = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));
        Assert.Equal(FluxErrorCodes.CircuitOpen, open.Code);
        Assert.Equal(before, (await emulator.StatsAsync()).Total);
    }

    [Fact]
    public async Task WholeJob_FallbackIncluded_StaysInsideOneTotalTimeout()
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:Tier"] = "free",
            // Dev is rate limited first (a 60 s wait), then refused; schnell hangs.
            ["Emulator:RateLimitRequests"] = "3",
            ["Emulator:RateLimitWindow"] = "00:01:00",
            ["Emulator:TimeoutRate"] = "1",
            ["Emulator:TimeoutDuration"] = "00:10:00",
        }, time);
        var total = TimeSpan.FromMinutes(2);
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:AttemptTimeout"] = "00:00:50",
            ["Flux:Resilience:ModelTimeout"] = "00:02:00",
            ["Flux:Resilience:TotalTimeout"] = "00:02:00",
        }, time);
        for (var i = 0; i < 3; i++)
        {
            // Fill the rate-limit window: these dev requests are refused at once.
            await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(allowFallback: false), Ct));
        }

        var started = time.GetUtcNow();
        var failure = await Assert.ThrowsAsync<FluxException>(() => time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct)));

        // Dev spent a minute (429, then 400); schnell got what was left of the same two minutes, not two more.
        Assert.Equal(FluxErrorCodes.Timeout, failure.Code);
        Assert.True(failure.FellBack);
        Assert.InRange(time.GetUtcNow() - started, total, total + TimeSpan.FromSeconds(10));
        var stats = await emulator.StatsWhenAsync(s => s.Count(FluxModels.Schnell, 499) >= 2);
        Assert.Equal(1, stats.Count(FluxModels.Dev, 429));
        Assert.Equal(4, stats.Count(FluxModels.Dev, 400));
        Assert.Equal(2, stats.Count(FluxModels.Schnell, 499));
        Assert.Equal(2, stats.Count(FluxModels.Schnell));
    }

    private static List<HttpMessageHandler> Chain(HttpMessageHandler outermost)
    {
        var chain = new List<HttpMessageHandler>();
        for (HttpMessageHandler? handler = outermost; handler is not null; handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            chain.Add(handler);
        }

        return chain;
    }

#pragma warning disable EXTEXP0001
    /// <summary>The pipeline a resilience handler runs (it keeps its pipeline provider private).</summary>
    private static ResiliencePipeline<HttpResponseMessage> PipelineOf(ResilienceHandler handler)
    {
        var provider = (Func<HttpRequestMessage, ResiliencePipeline<HttpResponseMessage>>)typeof(ResilienceHandler)
            .GetField("_pipelineProvider", BindingFlags.Instance | BindingFlags.NonPublic)!
            .GetValue(handler)!;
        using var request = new HttpRequestMessage();
        return provider(request);
    }

    /// <summary>The pipeline the resilience registry holds under <paramref name="name"/> (its key type is internal).</summary>
    private static ResiliencePipeline<HttpResponseMessage> Registered(IServiceProvider services, string name)
    {
        var keyType = typeof(ResilienceHandler).Assembly.GetType("Microsoft.Extensions.Http.Resilience.Internal.HttpKey", throwOnError: true)!;
        var provider = services.GetRequiredService(typeof(ResiliencePipelineProvider<>).MakeGenericType(keyType));
        var key = Activator.CreateInstance(keyType, name, string.Empty);
        var getPipeline = provider.GetType().GetMethods()
            .Single(m => m is { Name: nameof(ResiliencePipelineProvider<string>.GetPipeline), IsGenericMethodDefinition: true })
            .MakeGenericMethod(typeof(HttpResponseMessage));
        return (ResiliencePipeline<HttpResponseMessage>)getPipeline.Invoke(provider, [key])!;
    }
#pragma warning restore EXTEXP0001
}
