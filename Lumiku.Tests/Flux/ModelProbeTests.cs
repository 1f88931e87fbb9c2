using Lumiku.Generation;
using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Flux;

/// <summary><c>probe-models</c> tells an operator what their token can do before jobs fail.</summary>
public sealed class ModelProbeTests
{
    [Fact]
    public async Task FreeTierToken_ShowsDev400AndSchnell200_RecommendsTheFallback_AndExitsWithSomeModelsWork()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });
        await using var flux = await FluxTestHost.StartAsync(emulator);
        using var output = new StringWriter();

        var exitCode = await flux.Services.GetRequiredService<ModelProbe>().RunAsync(output, TestContext.Current.CancellationToken);

        var text = output.ToString();
        Assert.Equal(ModelProbe.ExitCodes.SomeModelsWork, exitCode);
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
    public async Task ProviderMatrix_ShowsEachProviderAndModel_AndWhichProviderServesDev()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Providers:hf-inference:Tier"] = "no-credits" });
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?>
        {
            ["Flux:Providers:0"] = "hf-inference",
            ["Flux:Providers:1"] = "fal-ai",
        });
        using var output = new StringWriter();

        var exitCode = await flux.Services.GetRequiredService<ModelProbe>().RunAsync(output, TestContext.Current.CancellationToken);

        var text = output.ToString();
        var lines = text.Split('\n');
        Assert.Equal(ModelProbe.ExitCodes.AllModelsWork, exitCode);
        Assert.Contains(lines, l => l.StartsWith(FluxModels.Dev, StringComparison.Ordinal) && l.Contains(" hf-inference ", StringComparison.Ordinal) && l.Contains(" 402 ", StringComparison.Ordinal) && l.Contains("exceeded your monthly included credits", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(FluxModels.Dev, StringComparison.Ordinal) && l.Contains(" fal-ai ", StringComparison.Ordinal) && l.Contains(" 200 ", StringComparison.Ordinal) && l.Contains("image/png", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(FluxModels.Schnell, StringComparison.Ordinal) && l.Contains(" fal-ai ", StringComparison.Ordinal) && l.Contains(" 200 ", StringComparison.Ordinal));
        Assert.Contains($"Providers: {FluxModels.Dev} from fal-ai (after hf-inference 402); {FluxModels.Schnell} from fal-ai (after hf-inference 402).", text);

        // One request per cell: no failover, no fallback.
        var stats = await emulator.StatsAsync();
        Assert.Equal(4, stats.Total);
    }

    [Fact]
    public async Task RejectedToken_SaysSo_AndExitsNonZero()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await using var flux = await FluxTestHost.StartAsync(emulator, new Dictionary<string, string?> { ["Flux:Token"] = "hf_revoked" });
        using var output = new StringWriter();

        var exitCode = await flux.Services.GetRequiredService<ModelProbe>().RunAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(ModelProbe.ExitCodes.NoModelWorks, exitCode);
        Assert.Contains("Token: rejected (401)", output.ToString());
        Assert.Contains("Verdict: no model works: every job will fail. Check the token.", output.ToString());
    }

    [Fact]
    public async Task NoToken_TheCommandSaysHowToSetOne_CallsNothing_AndExitsNonZero_WithoutStackTraces()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Lumiku.Worker.dll"), ModelProbe.CommandName },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        // Production: no user secrets of this machine's worker; the token is explicitly empty.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Flux__Token"] = "";
        start.Environment["Flux__BaseUrl"] = emulator.BaseUrl.ToString();
        using var probe = Process.Start(start)!;
        var stdout = probe.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = probe.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await probe.WaitForExitAsync(TestContext.Current.CancellationToken);
        var text = await stdout;

        Assert.Equal(ModelProbe.ExitCodes.NoToken, probe.ExitCode);
        Assert.StartsWith("No Hugging Face token is set (Flux:Token), so no model was called.", text, StringComparison.Ordinal);
        Assert.Contains("Set a token, then run this again:", text);
        Assert.Contains("dotnet user-secrets --project Lumiku.Worker set Flux:Token hf_...", text);
        Assert.Contains("export Flux__Token=hf_...", text);
        Assert.DoesNotContain("Token: accepted", text);
        Assert.DoesNotContain("   at ", text + await stderr);
        Assert.Equal(0, (await emulator.StatsAsync()).Total);
    }
}
