using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Lumiku.Generation;
using Lumiku.InferenceEmulator;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Flux.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Flux;

/// <summary>
/// Each provider's wire shape and the failover between them, against the real emulator over HTTP at
/// the router's own paths (<c>/fal-ai/...</c>, <c>/replicate/...</c>, <c>/together/...</c>).
/// </summary>
public sealed class ProviderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FluxRequest Dev(FluxLora? lora = null) =>
        new("A professional headshot of a 25-year-old woman", "blurry", 512, 512, 42, FluxModels.Dev) { Lora = lora };

    private static Dictionary<string, string?> Providers(params string[] providers)
    {
        var settings = new Dictionary<string, string?>
        {
            // Fast retries, so a provider that is down costs milliseconds here.
            ["Flux:Resilience:RetryDelay"] = "00:00:00.001",
            ["Flux:Resilience:MaxRetryAttempts"] = "1",
        };
        for (var i = 0; i < providers.Length; i++)
        {
            settings[$"Flux:Providers:{i}"] = providers[i];
        }

        return settings;
    }

    public static TheoryData<string, string, string[], string[], string> Shapes => new()
    {
        // provider, its model id, top-level keys, parameter keys (parameters / input / body), the path
        { FluxProviderNames.FalAi, "fal-ai/flux/dev", ["prompt", "image_size", "num_inference_steps", "guidance_scale", "seed"], ["prompt", "image_size", "num_inference_steps", "guidance_scale", "seed"], "fal-ai/fal-ai/flux/dev" },
        { FluxProviderNames.Replicate, "black-forest-labs/flux-dev", ["input"], ["prompt", "width", "height", "num_inference_steps", "guidance_scale", "seed"], "replicate/v1/models/black-forest-labs/flux-dev/predictions" },
        { FluxProviderNames.Together, "black-forest-labs/FLUX.1-dev", ["prompt", "response_format", "width", "height", "steps", "guidance", "seed", "model"], ["prompt", "response_format", "width", "height", "steps", "guidance", "seed", "model"], "together/v1/images/generations" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task EachProvider_SendsExactlyItsDocumentedShape_AndItsAnswerBecomesAPng(string provider, string modelId, string[] keys, string[] parameters, string path)
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, Providers(provider));

        using var image = await flux.Client.GenerateAsync(Dev(), Ct);

        Assert.Equal("image/png", image.ContentType);
        Assert.Equal("image/png", ImageSniffer.ContentTypeOf(image.Bytes.Span));
        Assert.Equal((FluxModels.Dev, provider, false), (image.ModelUsed, image.Provider, image.FellBack));

        var stats = await emulator.StatsAsync();
        var request = Assert.Single(stats.Recent);
        Assert.Equal((provider, modelId, 200), (request.Provider, request.Model, request.Status is 201 ? 200 : request.Status));
        Assert.Equal(keys, request.Keys);
        Assert.Equal(parameters, request.ParameterNames);
        // Nothing FLUX ignores or the provider does not take: no negative prompt, no lora fields, no hf-inference "inputs".
        Assert.DoesNotContain("negative_prompt", request.Body);
        Assert.DoesNotContain("lora", request.Body);
        Assert.DoesNotContain("\"inputs\"", request.Body);
        Assert.Equal(1, stats.Count(provider, modelId, null));

        var body = JsonNode.Parse(request.Body!)!;
        var values = provider switch
        {
            FluxProviderNames.FalAi => ((int)body["image_size"]!["width"]!, (int)body["image_size"]!["height"]!, (int)body["num_inference_steps"]!, (double)body["guidance_scale"]!),
            FluxProviderNames.Replicate => ((int)body["input"]!["width"]!, (int)body["input"]!["height"]!, (int)body["input"]!["num_inference_steps"]!, (double)body["input"]!["guidance_scale"]!),
            _ => ((int)body["width"]!, (int)body["height"]!, (int)body["steps"]!, (double)body["guidance"]!),
        };
        Assert.Equal((512, 512, 30, 3.5), values);
        if (provider == FluxProviderNames.Together)
        {
            Assert.Equal(("base64", modelId), ((string?)body["response_format"], (string?)body["model"]));
        }

        // The route is the router's own path (under https://router.huggingface.co/): without a token it is a 401, not a 404.
        using var again = await emulator.Http.PostAsync(path, new StringContent(request.Body!, System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, again.StatusCode);
    }

    // Replicate answers "processing" when the model takes longer than Prefer: wait; the worker polls the
    // prediction's urls.get (with its token) inside the attempt, and does not send a second prediction.
    [Fact]
    public async Task Replicate_PredictionStillRunning_IsPolledUntilItSucceeds_WithOnePaidPrediction()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Providers:replicate:RunningPolls"] = "2" });
        await using var flux = await FluxTestHost.StartAsync(emulator, Providers(FluxProviderNames.Replicate));

        using var image = await flux.Client.GenerateAsync(Dev(), Ct);

        Assert.Equal("image/png", ImageSniffer.ContentTypeOf(image.Bytes.Span));
        Assert.Equal((FluxModels.Dev, FluxProviderNames.Replicate, false), (image.ModelUsed, image.Provider, image.FellBack));
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxProviderNames.Replicate, "black-forest-labs/flux-dev", null));
    }

    [Fact]
    public async Task HfInferenceOnly_KeepsTheOldRoute_AndShape()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator);

        using var image = await flux.Client.GenerateAsync(Dev(), Ct);

        var request = Assert.Single((await emulator.StatsAsync()).Recent);
        Assert.Equal((FluxProviderNames.HfInference, FluxModels.Dev, "image/png"), (image.Provider, request.Model, request.Accept));
        Assert.Equal(["inputs", "parameters"], request.Keys);
        Assert.Equal(["width", "height", "num_inference_steps", "guidance_scale", "negative_prompt", "seed"], request.ParameterNames);
    }

    [Fact]
    public async Task HfInference402_FailsOverToFal_WhichDeliversDev()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Providers:hf-inference:Tier"] = "no-credits" });
        await using var flux = await FluxTestHost.StartAsync(emulator, Providers(FluxProviderNames.HfInference, FluxProviderNames.FalAi));
        var failovers = new List<Dictionary<string, object?>>();
        using var meters = ListenToFailovers(flux.Services.GetRequiredService<IMeterFactory>(), failovers);
        using var source = new ActivitySource("Lumiku.Tests.Flux.Failover");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        FluxImage image;
        using (var activity = source.StartActivity("process lumiku.generations"))
        {
            image = await flux.Client.GenerateAsync(Dev(), Ct);

            // The span event ops see in the trace.
            var failover = Assert.Single(activity!.Events, e => e.Name == FluxTelemetry.FailoverEventName);
            var tags = failover.Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal((FluxProviderNames.HfInference, FluxProviderNames.FalAi, FluxModels.Dev, 402), (tags["lumiku.flux.provider"], tags["lumiku.flux.next_provider"], tags["lumiku.flux.model"], tags["http.response.status_code"]));
            Assert.Contains("exceeded your monthly included credits", (string?)tags["lumiku.flux.provider_error"]);
        }

        using (image)
        {
            Assert.Equal((FluxModels.Dev, FluxProviderNames.FalAi, false), (image.ModelUsed, image.Provider, image.FellBack));
        }

        // The metric counts the switch, by provider, model and status.
        var counted = Assert.Single(failovers);
        Assert.Equal((FluxProviderNames.HfInference, FluxModels.Dev, 402), (counted["lumiku.flux.provider"], counted["lumiku.flux.model"], counted["http.response.status_code"]));
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxProviderNames.HfInference, FluxModels.Dev, 402));
        Assert.Equal(1, stats.Count(FluxProviderNames.FalAi, "fal-ai/flux/dev", 200));
        // The switch is logged with provider, model, status and the provider's own words.
        var switched = Assert.Single(flux.Logs.Events, e => e.EventId.Id == 3009);
        Assert.Contains("hf-inference", switched.Message);
        Assert.Contains("402", switched.Message);
        Assert.Contains("exceeded your monthly included credits", switched.Message);
        Assert.Contains("fal-ai", switched.Message);
    }

    [Fact]
    public async Task EveryProvider400OnDev_FallsBackToSchnell_OnTheFirstProvider()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator, Providers(FluxProviderNames.HfInference, FluxProviderNames.FalAi));

        using var image = await flux.Client.GenerateAsync(Dev(), Ct);

        Assert.Equal((FluxModels.Schnell, FluxProviderNames.HfInference, true), (image.ModelUsed, image.Provider, image.FellBack));
        Assert.Contains("Model access denied", image.PrimaryError);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxProviderNames.HfInference, FluxModels.Dev, 400));
        Assert.Equal(1, stats.Count(FluxProviderNames.FalAi, "fal-ai/flux/dev", 400));
        Assert.Equal(1, stats.Count(FluxProviderNames.HfInference, FluxModels.Schnell, 200));
        Assert.Equal(0, stats.Count(FluxProviderNames.FalAi, "fal-ai/flux/schnell", null));
    }

    [Fact]
    public async Task ProviderDown_FailsOverToTheNext_WithABreakerPerProvider()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Providers:hf-inference:Error503Rate"] = "1" });
        var settings = Providers(FluxProviderNames.HfInference, FluxProviderNames.FalAi);
        settings["Flux:Resilience:CircuitBreakerMinimumThroughput"] = "4";
        settings["Flux:Resilience:CircuitBreakerFailureRatio"] = "0.5";
        await using var flux = await FluxTestHost.StartAsync(emulator, settings);

        for (var i = 0; i < 6; i++)
        {
            using var image = await flux.Client.GenerateAsync(Dev() with { Seed = i }, Ct);
            Assert.Equal((FluxModels.Dev, FluxProviderNames.FalAi), (image.ModelUsed, image.Provider));
        }

        var stats = await emulator.StatsAsync();
        // hf-inference's breaker opened after 4 failed attempts (2 jobs x 2 attempts): the next 4 jobs never asked it...
        Assert.Equal(4, stats.Count(FluxProviderNames.HfInference, FluxModels.Dev, 503));
        // ...while fal's own breaker stayed closed and delivered all 6.
        Assert.Equal(6, stats.Count(FluxProviderNames.FalAi, "fal-ai/flux/dev", 200));
        Assert.Contains(flux.Logs.Events, e => e.EventId.Id == 3009 && e.Message.Contains("circuit open", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RealismLora_GoesToFalsLoraRoute_WithLorasAtScale09_AndNeverToHfInference()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, Providers(FluxProviderNames.HfInference, FluxProviderNames.FalAi));

        using var image = await flux.Client.GenerateAsync(Dev(new FluxLora(FluxOptions.RealismLora, "lora.safetensors", 0.9)), Ct);

        Assert.Equal(FluxProviderNames.FalAi, image.Provider);
        var stats = await emulator.StatsAsync();
        Assert.Equal(0, stats.CountProvider(FluxProviderNames.HfInference));
        var request = Assert.Single(stats.Recent);
        Assert.Equal((FluxProviderNames.FalAi, EmulatorProviders.FalLora), (request.Provider, request.Model));
        var lora = Assert.Single(JsonNode.Parse(request.Body!)!["loras"]!.AsArray())!;
        Assert.Equal(("https://huggingface.co/XLabs-AI/flux-RealismLora/resolve/main/lora.safetensors", 0.9), ((string?)lora["path"], (double)lora["scale"]!));
    }

    [Fact]
    public async Task RealismLora_WithOnlyHfInference_IsRefused_AndNothingIsSent()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator);

        var failure = await Assert.ThrowsAsync<FluxException>(() => flux.Client.GenerateAsync(Dev(new FluxLora(FluxOptions.RealismLora, "lora.safetensors", 0.9)), Ct));

        Assert.Contains("a LoRA needs fal-ai or replicate", failure.Message);
        Assert.Equal(0, (await emulator.StatsAsync()).Total);
    }

    private static MeterListener ListenToFailovers(IMeterFactory scope, List<Dictionary<string, object?>> failovers)
    {
        var listener = new MeterListener
        {
            // Only this test host's meter: other tests fail over in parallel.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FluxTelemetry.MeterName && instrument.Name == "lumiku.flux.failovers" && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var measured = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                measured[tag.Key] = tag.Value;
            }

            lock (failovers)
            {
                failovers.Add(measured);
            }
        });
        listener.Start();
        return listener;
    }
}
