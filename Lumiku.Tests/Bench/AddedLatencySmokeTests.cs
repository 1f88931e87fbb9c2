using System.Text.Json;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// The added-latency scenario still works end to end at a small size: every watched job succeeds, its
/// stream sees exactly one terminal event, every job has its submit → provider figure (the emulator
/// stamped its request), and every job whose stream opened before it ended has its answer → event
/// figure. Asserts outcomes and the report's shape, never latency values.
/// </summary>
[Trait("Category", "Bench")]
public sealed class AddedLatencySmokeTests
{
    private static readonly string[] JsonFields =
    [
        "scenario", "commit", "startedAt", "phase", "jobs", "ratePerSec", "backgroundRatePerSec", "accepted", "succeeded",
        "exactlyOneTerminal", "lateStreams", "submitToProviderSamples", "submitToProviderP50Ms", "submitToProviderP99Ms",
        "providerToEventSamples", "providerToEventP50Ms", "providerToEventP99Ms", "cpuSeconds", "otherCpuSeconds", "failures",
    ];

    [Fact]
    public async Task Smoke_50Jobs_IdleThenBesideABackgroundLoad_EveryJobHasBothLatencies()
    {
        // A 200 ms provider: the stream, opened after the 202, is nearly always open before the job ends.
        var options = BenchOptions.Parse(["--scenario", "added-latency", "--jobs", "50", "--rate", "25", "--sizes", "25", "--warmup", "10", "--emulator-latency-ms", "200", "--quiet"]);

        var report = await AddedLatencyRunner.RunAsync(
            options with { Timeout = TimeSpan.FromSeconds(45) }, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken);

        Assert.Equal(["idle", "bg25"], report.Points.Select(p => p.Phase));
        foreach (var point in report.Points)
        {
            Assert.Equal(50, point.Accepted);
            Assert.Equal(50, point.Succeeded);
            Assert.Equal(50, point.ExactlyOneTerminal);
            Assert.Equal(50, point.SubmitToProviderSamples);
            // A stream that opened after its job ended (a busy machine) has no answer → event figure, and is counted.
            Assert.Equal(50, point.ProviderToEventSamples + point.LateStreams);
            Assert.True(point.ProviderToEventSamples > 0);
        }

        Assert.True(report.Points[1].BackgroundAccepted > 0);
        Assert.Equal(0, report.Failures);
        foreach (var line in report.JsonLines())
        {
            using var json = JsonDocument.Parse(line);
            foreach (var field in JsonFields)
            {
                Assert.True(json.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
            }
        }
    }
}
