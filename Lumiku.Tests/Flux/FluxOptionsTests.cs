using Lumiku.Tests.Emulator;
using Microsoft.Extensions.Options;

namespace Lumiku.Tests.Flux;

/// <summary>A misconfigured Flux section stops the worker at start instead of failing every job.</summary>
public sealed class FluxOptionsTests
{
    [Theory]
    [InlineData("Flux:Resilience:TotalTimeout", "00:00:30", "TotalTimeout must be at least")]
    [InlineData("Flux:Fallback:Model", "black-forest-labs/FLUX.1-dev", "must differ from Flux:Primary:Model")]
    [InlineData("Flux:FallbackStatusCodes:0", "503", "must be 4xx statuses")]
    [InlineData("Flux:Primary:Steps", "0", "Flux:Primary")]
    public async Task InvalidSetting_FailsAtStart(string key, string value, string expected)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(failure.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }
}
