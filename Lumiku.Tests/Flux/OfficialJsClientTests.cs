using System.Diagnostics;
using System.Text.Json;
using Lumiku.Generation;
using Lumiku.InferenceEmulator;
using Lumiku.Tests.Emulator;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Flux;

/// <summary>
/// The official JavaScript client (<c>@huggingface/inference</c> from npm, installed by <c>.ci/run</c> into
/// the ignored <c>.tools/hf-inference-js</c>) gets an image from the emulator through fal's queue and
/// Replicate's predictions, so the emulator's shapes are the real ones. Runs where Node and the package are.
/// </summary>
public sealed class OfficialJsClientTests
{
    private const string Token = "hf_emulator_token";

    private static readonly string Entry = Path.Combine(RepoPaths.Root, ".tools", "hf-inference-js", "node_modules", "@huggingface", "inference", "dist", "esm", "index.js");

    [Theory]
    [InlineData("fal-ai", "fal-ai/flux/dev")]
    [InlineData("replicate", "black-forest-labs/flux-dev")]
    public async Task OfficialClient_GetsAPng_FromTheEmulatedProvider(string provider, string providerModel)
    {
        if (!File.Exists(Entry) || FindNode() is not { } node)
        {
            Assert.Skip("Node and @huggingface/inference (.tools/hf-inference-js, installed by .ci/run) are needed.");
            return;
        }

        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Token"] = Token });
        var start = new ProcessStartInfo(node)
        {
            ArgumentList = { Path.Combine(RepoPaths.Root, "Lumiku.Tests", "Flux", "OfficialClient", "text-to-image.mjs"), Entry, emulator.BaseUrl.ToString(), provider, Token, FluxModels.Dev },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, await stderr);
        using var result = JsonDocument.Parse(await stdout);
        Assert.Equal("89504e470d0a1a0a", result.RootElement.GetProperty("magic").GetString());
        Assert.True(result.RootElement.GetProperty("bytes").GetInt32() > 1000);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(provider, providerModel, provider == EmulatorProviders.Replicate ? 201 : 200));
    }

    private static string? FindNode() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "node"))
            .FirstOrDefault(File.Exists);
}
