using Lumiku.Generation;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.Options;

namespace Lumiku.Tests.Flux;

/// <summary>A misconfigured Flux section stops the worker at start instead of failing every job.</summary>
public sealed class FluxOptionsTests
{
    [Theory]
    [InlineData("Flux:Resilience:TotalTimeout", "00:00:30", "TotalTimeout must be at least Flux:Resilience:ModelTimeout")]
    [InlineData("Flux:Resilience:ModelTimeout", "00:00:30", "ModelTimeout must be at least Flux:Resilience:AttemptTimeout")]
    [InlineData("Flux:Fallback:Model", "black-forest-labs/FLUX.1-dev", "must differ from Flux:Primary:Model")]
    [InlineData("Flux:FallbackStatusCodes:0", "503", "must be 4xx statuses")]
    [InlineData("Flux:Primary:Steps", "0", "Flux:Primary")]
    [InlineData("Flux:Providers:0", "nebius", "Flux:Providers: nebius unknown")]
    [InlineData("Flux:FailoverStatusCodes:0", "503", "Flux:FailoverStatusCodes must be 4xx statuses")]
    public async Task InvalidSetting_FailsAtStart(string key, string value, string expected)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        var failures = await StartFailuresAsync(emulator, new Dictionary<string, string?> { [key] = value });

        Assert.Contains(failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoConfiguredProviderWithAnIdForThePrimaryModel_FailsAtStart()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        var failures = await StartFailuresAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Providers:0"] = "together",
            ["Flux:ProviderModels:together:black-forest-labs/FLUX.1-dev"] = "",
        });

        Assert.Contains(failures, f => f.Contains("none of Flux:Providers (together) has a model id for black-forest-labs/FLUX.1-dev", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:06:00", "00:06:00")]
    [InlineData("00:05:00", "00:00:04")]
    public async Task TotalTimeoutNotBelowTheVisibilityTimeout_FailsAtStart_NamingBothSettings(string total, string visibility)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        var failures = await StartFailuresAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:TotalTimeout"] = total,
            ["Worker:VisibilityTimeout"] = visibility,
        });

        var failure = Assert.Single(failures);
        Assert.Contains("Flux:Resilience:TotalTimeout", failure, StringComparison.Ordinal);
        Assert.Contains("Worker:VisibilityTimeout", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TotalTimeoutBelowAShortVisibilityTimeout_StartsAndGenerates()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Resilience:AttemptTimeout"] = "00:00:02",
            ["Flux:Resilience:ModelTimeout"] = "00:00:03",
            ["Flux:Resilience:TotalTimeout"] = "00:00:03.500",
            ["Flux:Resilience:RetryDelay"] = "00:00:00.100",
            ["Worker:VisibilityTimeout"] = "00:00:04",
        });

        using var image = await flux.Client.GenerateAsync(
            new FluxRequest("A portrait", null, 512, 512, 7, FluxModels.Dev), TestContext.Current.CancellationToken);

        Assert.Equal(FluxModels.Dev, image.ModelUsed);
    }

    /// <summary>
    /// The validation failures the host's start threw: one <see cref="OptionsValidationException"/>, or
    /// several at once (the standard handler's options read the Flux section, so they fail with it).
    /// </summary>
    private static async Task<IReadOnlyList<string>> StartFailuresAsync(EmulatorHost emulator, Dictionary<string, string?> settings)
    {
        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => FluxTestHost.StartAsync(emulator, settings));
        var exceptions = thrown is AggregateException aggregate ? aggregate.InnerExceptions : [thrown];
        var failures = exceptions.Select(e => Assert.IsType<OptionsValidationException>(e)).SelectMany(e => e.Failures).Distinct().ToList();
        Assert.NotEmpty(failures);
        return failures;
    }
}
