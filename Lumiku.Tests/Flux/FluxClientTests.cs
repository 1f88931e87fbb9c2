using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Lumiku.Generation;
using Lumiku.InferenceEmulator;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Flux;

/// <summary>The real Flux client over real HTTP against the emulator.</summary>
public sealed class FluxClientTests
{
    private static readonly HashSet<string> AllowedParameters = ["width", "height", "num_inference_steps", "guidance_scale", "negative_prompt", "seed"];

    private static FluxRequest Dev(string? negative = "blurry, extra fingers") =>
        new("A professional headshot of a 25-year-old woman", negative, 512, 768, 1234567, FluxModels.Dev);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dev200_ReturnsDevPng_WithoutFallback()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator);

        var image = await flux.Client.GenerateAsync(Dev(), Ct);

        Assert.Equal(FluxModels.Dev, image.ModelUsed);
        Assert.False(image.FellBack);
        Assert.Null(image.PrimaryError);
        Assert.Equal("image/png", image.ContentType);
        Assert.Equal("image/png", ImageSniffer.ContentTypeOf(image.Bytes.Span));
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Total);
        Assert.Equal(1, stats.Count(FluxModels.Dev, 200));

        var sent = JsonNode.Parse(stats.Recent.Single().Body!)!;
        Assert.Equal(30, (int)sent["parameters"]!["num_inference_steps"]!);
        Assert.Equal(3.5, (double)sent["parameters"]!["guidance_scale"]!);
        Assert.Equal("image/png", stats.Recent.Single().Accept);
    }

    [Theory]
    [InlineData("pro")]
    [InlineData("free")]
    public async Task NoLoraOrOtherUnknownParameter_EverReachesTheProvider(string tier)
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = tier });
        await using var flux = await FluxTestHost.StartAsync(emulator);

        await flux.Client.GenerateAsync(Dev(), Ct);
        await flux.Client.GenerateAsync(Dev() with { Model = FluxModels.Schnell }, Ct);

        var stats = await emulator.StatsAsync();
        Assert.NotEmpty(stats.Recent);
        Assert.All(stats.Recent, r =>
        {
            Assert.Equal(["inputs", "parameters"], r.Keys);
            Assert.Subset(AllowedParameters, r.ParameterNames.ToHashSet());
            Assert.DoesNotContain("lora", r.Body!, StringComparison.OrdinalIgnoreCase);
        });
        Assert.Equal(0, stats.Count(FluxModels.Dev, 422) + stats.Count(FluxModels.Schnell, 422));
    }

    [Fact]
    public async Task Dev400_FallsBackToSchnell_WithFourStepsNoGuidanceNoNegativePrompt_SameSizeAndSeed()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator);
        using var source = new ActivitySource("Lumiku.Tests.Flux.Fallback");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var fallbackStatuses = new List<object?>();
        using var meters = ListenToFallbacks(flux.Services.GetRequiredService<IMeterFactory>(), fallbackStatuses);

        FluxImage image;
        using (var activity = source.StartActivity("process lumiku.generations"))
        {
            image = await flux.Client.GenerateAsync(Dev(), Ct);

            // The span event ops see in the trace.
            var fallback = Assert.Single(activity!.Events, e => e.Name == FluxTelemetry.FallbackEventName);
            var tags = fallback.Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal(400, tags["http.response.status_code"]);
            Assert.Equal("Model access denied. Upgrade to PRO.", tags["lumiku.flux.primary_error"]);
        }

        // What the generation record keeps.
        Assert.Equal(FluxModels.Schnell, image.ModelUsed);
        Assert.True(image.FellBack);
        Assert.Contains("400", image.PrimaryError);
        Assert.Contains("Model access denied. Upgrade to PRO.", image.PrimaryError);

        // Exactly one schnell request, with schnell's parameters and the job's size and seed.
        var stats = await emulator.StatsAsync();
        Assert.Equal(2, stats.Total);
        Assert.Equal(1, stats.Count(FluxModels.Dev, 400));
        Assert.Equal(1, stats.Count(FluxModels.Schnell, 200));
        var dev = JsonNode.Parse(stats.Recent[0].Body!)!["parameters"]!;
        var schnell = JsonNode.Parse(stats.Recent[1].Body!)!["parameters"]!;
        Assert.Equal("blurry, extra fingers", (string?)dev["negative_prompt"]);
        Assert.Equal(4, (int)schnell["num_inference_steps"]!);
        Assert.Equal(0, (double)schnell["guidance_scale"]!);
        Assert.Null(schnell["negative_prompt"]);
        Assert.Equal(512, (int)schnell["width"]!);
        Assert.Equal(768, (int)schnell["height"]!);
        Assert.Equal(1234567L, (long)schnell["seed"]!);
        Assert.Equal(EmulatorOptions.FluxSchnell, stats.Recent[1].Model);

        // The log event carries dev's error body; the metric counts the switch.
        Assert.Contains(flux.Logs.Events, e => e.EventId.Id == 3003 && e.Message.Contains("Model access denied. Upgrade to PRO.", StringComparison.Ordinal));
        Assert.Equal([400], fallbackStatuses);
    }

    [Fact]
    public async Task Schnell400AfterFallback_FailsWithProviderBadRequest_WithoutLooping()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:Tier"] = "free",
            ["Emulator:DeniedModels"] = EmulatorOptions.FluxSchnell,
        });
        await using var flux = await FluxTestHost.StartAsync(emulator);

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.BadRequest, failure.Code);
        Assert.False(failure.Retryable);
        Assert.Equal(400, failure.StatusCode);
        Assert.Equal(FluxModels.Schnell, failure.Model);
        Assert.True(failure.FellBack);
        Assert.Contains("Model access denied", failure.PrimaryError);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxModels.Dev));
        Assert.Equal(1, stats.Count(FluxModels.Schnell));
        Assert.Equal(2, stats.Total);
    }

    [Fact]
    public async Task Dev400_WithFallbackSwitchedOff_FailsWithProviderBadRequest()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { ["Flux:FallbackEnabled"] = "false" });

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.BadRequest, failure.Code);
        Assert.Contains("Model access denied. Upgrade to PRO.", failure.Message);
        Assert.Equal(0, (await emulator.StatsAsync()).Count(FluxModels.Schnell));
    }

    [Fact]
    public async Task Dev503Loading_WaitsTheEstimatedTime_ThenSucceeds()
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:ColdStart"] = "00:00:20" }, time);
        await using var flux = await FluxTestHost.StartAsync(emulator, time: time);

        var image = await time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxModels.Dev, image.ModelUsed);
        // One 503 then the image: the client waited the 20 s estimate instead of backing off 2, 4, 8 s into more 503s.
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxModels.Dev, 503));
        Assert.Equal(1, stats.Count(FluxModels.Dev, 200));
    }

    [Fact]
    public async Task FallbackRequest_GetsTheStandardRetryHandling()
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:Tier"] = "free",
            ["Emulator:ColdStart"] = "00:00:20",
        }, time);
        await using var flux = await FluxTestHost.StartAsync(emulator, time: time);

        var image = await time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxModels.Schnell, image.ModelUsed);
        Assert.True(image.FellBack);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxModels.Dev, 400));
        Assert.Equal(1, stats.Count(FluxModels.Schnell, 503));
        Assert.Equal(1, stats.Count(FluxModels.Schnell, 200));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RateLimited429_WaitsUntilTheWindowResets_ThenSucceeds(bool sendRetryAfter)
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:RateLimitRequests"] = "1",
            ["Emulator:RateLimitWindow"] = "00:00:30",
            ["Emulator:SendRetryAfter"] = sendRetryAfter.ToString(),
        }, time);
        await using var flux = await FluxTestHost.StartAsync(emulator, time: time);

        await time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct));
        var second = await time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxModels.Dev, second.ModelUsed);
        // A single 429: the client waited for Retry-After (or RateLimit t=) rather than hammering the window.
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxModels.Dev, 429));
        Assert.Equal(2, stats.Count(FluxModels.Dev, 200));
    }

    [Fact]
    public async Task Persistent500_FailsWithProviderUnavailable_AfterTheConfiguredAttempts_WithoutFallback()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Error500Rate"] = "1" });
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:MaxRetryAttempts"] = "2",
            ["Flux:Resilience:RetryDelay"] = "00:00:00.005",
        });

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.Unavailable, failure.Code);
        Assert.True(failure.Retryable);
        Assert.Equal(500, failure.StatusCode);
        Assert.Equal(3, failure.Attempt);
        Assert.False(failure.FellBack);
        Assert.Contains("upstream inference worker crashed", failure.Message);
        var stats = await emulator.StatsAsync();
        Assert.Equal(3, stats.Count(FluxModels.Dev, 500));
        Assert.Equal(0, stats.Count(FluxModels.Schnell));
        // Every failed attempt is logged with its number and the parsed text body.
        Assert.Equal(2, flux.Logs.Events.Count(e => e.EventId.Id == 3001 && e.Message.Contains("upstream inference worker crashed", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("TimeoutRate", "TimeoutDuration")] // no answer at all
    [InlineData("StallBodyRate", "StallBodyDuration")] // the headers and half the image, then nothing
    public async Task HungAttempts_AreCutByTheAttemptTimeout_AndFailWithProviderTimeout(string rate, string duration)
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:" + rate] = "1",
            ["Emulator:" + duration] = "00:10:00",
        }, time);
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:AttemptTimeout"] = "00:00:30",
            ["Flux:Resilience:MaxRetryAttempts"] = "1",
        }, time);

        var failure = await Assert.ThrowsAsync<FluxException>(() => time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct)));

        Assert.Equal(FluxErrorCodes.Timeout, failure.Code);
        Assert.True(failure.Retryable);
        Assert.False(failure.FellBack);
        // Both attempts were cut off by the client (499), neither ran into the emulator's 10 minutes; none is left open.
        var stats = await emulator.StatsWhenAsync(s => s.Count(FluxModels.Dev) >= 2);
        Assert.Equal(2, stats.Count(FluxModels.Dev, 499));
        Assert.Equal(0, stats.Count(FluxModels.Schnell));
        Assert.Equal(0, stats.Stalling);
    }

    [Fact]
    public async Task StalledBody_IsCutWithinTheAttemptTimeout_Retried_AndTheImageDelivered()
    {
        var time = FakeClock.Create();
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:StallBodyRate"] = "1",
            ["Emulator:StallBodyDuration"] = "00:10:00",
        }, time);
        var attemptTimeout = TimeSpan.FromSeconds(30);
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { ["Flux:Resilience:AttemptTimeout"] = "00:00:30" }, time);
        var started = time.GetUtcNow();

        var generation = flux.Client.GenerateAsync(Dev(), Ct);
        // The first answer sent its headers and half its image, and hangs; the provider recovers for the retry.
        Assert.Equal(1, (await emulator.StatsWhenAsync(s => s.Stalling == 1)).Stalling);
        await emulator.SetFaultsAsync(new { StallBodyRate = 0.0 });
        using var image = await time.RunAsync(() => generation);

        Assert.Equal(FluxModels.Dev, image.ModelUsed);
        Assert.Equal("image/png", ImageSniffer.ContentTypeOf(image.Bytes.Span));
        var stats = await emulator.StatsWhenAsync(s => s.Count(FluxModels.Dev) >= 2);
        Assert.Equal(1, stats.Count(FluxModels.Dev, 499));
        Assert.Equal(1, stats.Count(FluxModels.Dev, 200));
        // Cut by the attempt timeout (not the emulator's 10-minute stall), and nothing left open at the provider.
        Assert.InRange(stats.Recent.Single(r => r.Status == 499).At - started, attemptTimeout, attemptTimeout + TimeSpan.FromSeconds(10));
        Assert.Equal(0, stats.Stalling);
    }

    [Fact]
    public async Task ServiceDefaultsTimeouts_DoNotCutALongFluxCall()
    {
        var time = FakeClock.Create();
        // 60 s per image: beyond the service defaults' 10 s attempt and 30 s total timeouts.
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:LatencyMs"] = "60000" }, time);
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:AttemptTimeout"] = "00:10:00",
            ["Flux:Resilience:ModelTimeout"] = "00:30:00",
            ["Flux:Resilience:TotalTimeout"] = "00:30:00",
            ["Flux:Resilience:CircuitBreakerSamplingDuration"] = "00:30:00",
            ["Worker:VisibilityTimeout"] = "01:00:00",
        }, time);

        var image = await time.RunAsync(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxModels.Dev, image.ModelUsed);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Total);
        Assert.Equal(1, stats.Count(FluxModels.Dev, 200));
    }

    [Fact]
    public async Task Unauthorized401_IsNotRetriedNorFallenBackFrom_AndTheTokenIsNeverLogged()
    {
        const string wrongToken = "hf_wrong-token-that-must-not-leak";
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Token"] = wrongToken,
            ["Flux:FallbackStatusCodes:0"] = "400",
            ["Flux:FallbackStatusCodes:1"] = "402",
        });

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.Unauthorized, failure.Code);
        Assert.False(failure.Retryable);
        Assert.Equal(401, failure.StatusCode);
        Assert.NotNull(failure.RequestId);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Total);
        var failed = Assert.Single(flux.Logs.Events, e => e.EventId.Id == 3004);
        Assert.Contains("401", failed.Message);
        Assert.Contains("Invalid credentials in Authorization header", failed.Message);
        Assert.Contains(failure.RequestId!, failed.Message);
        Assert.DoesNotContain(flux.Logs.Events, e => e.Message.Contains(wrongToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BytesThatAreNotAnImage_FailWithProviderInvalidImage()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:NotAnImageRate"] = "1" });
        await using var flux = await FluxTestHost.StartAsync(emulator);

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.InvalidImage, failure.Code);
        Assert.Equal(FluxException.Category, "ai_provider");
        Assert.Contains("not PNG, JPEG or WebP", failure.Message);
        Assert.Equal(1, (await emulator.StatsAsync()).Total);
    }

    [Fact]
    public async Task ImageOverTheSizeCap_FailsWithProviderInvalidImage()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { ["Flux:MaxImageBytes"] = "2048" });

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(), Ct));

        Assert.Equal(FluxErrorCodes.InvalidImage, failure.Code);
        Assert.Contains("2048-byte cap", failure.Message);
    }

    [Fact]
    public async Task JsonAnswerWithBase64Image_IsAcceptedAsThePng()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:ResponseFormat"] = "json" });
        await using var flux = await FluxTestHost.StartAsync(emulator);

        var image = await flux.Client.GenerateAsync(Dev(), Ct);

        Assert.Equal("image/png", image.ContentType);
        Assert.Equal("image/png", ImageSniffer.ContentTypeOf(image.Bytes.Span));
    }

    private static MeterListener ListenToFallbacks(IMeterFactory scope, List<object?> statuses)
    {
        var listener = new MeterListener
        {
            // Only this test host's meter: other tests fall back in parallel.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FluxTelemetry.MeterName && instrument.Name == "lumiku.flux.fallbacks" && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "http.response.status_code")
                {
                    lock (statuses)
                    {
                        statuses.Add(tag.Value);
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }
}
