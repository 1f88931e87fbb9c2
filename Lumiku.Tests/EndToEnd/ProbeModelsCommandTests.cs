using Aspire.Hosting.ApplicationModel;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.EndToEnd;

/// <summary>The dashboard's "Probe models" command on the worker, run through the real AppHost (emulator on the free tier).</summary>
[Collection(FallbackAppCollection.Name)]
public sealed class ProbeModelsCommandTests(FallbackApp app)
{
    [Fact]
    public async Task ProbeModelsCommand_ResultMessageIsTheVerdict_WithTheTableAsItsResult()
    {
        var commands = app.App.Services.GetRequiredService<ResourceCommandService>();

        var result = await commands.ExecuteCommandAsync("worker", "probe-models", TestContext.Current.CancellationToken);

        Assert.True(result.Success, result.Message);
        Assert.Equal(
            "no access to black-forest-labs/FLUX.1-dev (400): every job will fall back to black-forest-labs/FLUX.1-schnell (4-step images, charged at its price).",
            result.Message);
        Assert.Contains("Model access denied. Upgrade to PRO.", result.Data?.Value);
        Assert.Contains("Token: accepted.", result.Data?.Value);
    }
}
