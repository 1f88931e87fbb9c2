using Lumiku.Generation;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Flux;

/// <summary><c>probe-models</c> tells an operator what their token can do before jobs fail.</summary>
public sealed class ModelProbeTests
{
    [Fact]
    public async Task FreeTierToken_ShowsDev400AndSchnell200_RecommendsTheFallback_AndExitsZero()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator);
        using var output = new StringWriter();

        var exitCode = await flux.Services.GetRequiredService<ModelProbe>().RunAsync(output, TestContext.Current.CancellationToken);

        var text = output.ToString();
        Assert.Equal(0, exitCode);
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith(FluxModels.Dev, StringComparison.Ordinal) && l.Contains(" 400 ", StringComparison.Ordinal) && l.Contains("Model access denied. Upgrade to PRO.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(FluxModels.Schnell, StringComparison.Ordinal) && l.Contains(" 200 ", StringComparison.Ordinal) && l.Contains("image/png", StringComparison.Ordinal));
        Assert.Contains("Token: accepted.", text);
        Assert.Contains($"no access to {FluxModels.Dev} (400): every job will fall back to {FluxModels.Schnell}", text);
        Assert.DoesNotContain(EmulatorHost.Token, text);

        // Each model answered for itself: dev's 400 did not turn into a second schnell call.
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(FluxModels.Dev, 400));
        Assert.Equal(1, stats.Count(FluxModels.Schnell, 200));
    }

    [Fact]
    public async Task RejectedToken_SaysSo_AndExitsNonZero()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { ["Flux:Token"] = "hf_revoked" });
        using var output = new StringWriter();

        var exitCode = await flux.Services.GetRequiredService<ModelProbe>().RunAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(1, exitCode);
        Assert.Contains("Token: rejected (401)", output.ToString());
        Assert.Contains("no model works: every job will fail. Check the token.", output.ToString());
    }
}
