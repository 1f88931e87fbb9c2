using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.EndToEnd;

/// <summary>The emulator's dashboard fault commands change the running provider, and "clear" undoes them.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class EmulatorFaultCommandsTests(LumikuApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FreeTierCommand_MakesTheNextJobFallBackToSchnell_AndClearBringsFluxDevBack()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var body = new { prompt = "A professional headshot of a 25-year-old woman", width = 512, height = 512, seed = 11 };

        GenerationView underFault;
        var set = await app.App.ResourceCommands.ExecuteCommandAsync("inference", "fault-free-tier", Ct);
        try
        {
            Assert.True(set.Success, set.Message);
            underFault = await client.WaitForTerminalAsync((await client.SubmitAsync(body)).Id);
        }
        finally
        {
            // The app is shared by the collection: never leave the fault on.
            var clear = await app.App.ResourceCommands.ExecuteCommandAsync("inference", "fault-clear", Ct);
            Assert.True(clear.Success, clear.Message);
        }

        var afterClear = await client.WaitForTerminalAsync((await client.SubmitAsync(body)).Id);

        Assert.Equal("succeeded", underFault.Status);
        Assert.Equal("flux-schnell", underFault.ModelUsed);
        Assert.True(underFault.FellBack);
        Assert.Equal("succeeded", afterClear.Status);
        Assert.Equal("flux-dev", afterClear.ModelUsed);
    }
}
