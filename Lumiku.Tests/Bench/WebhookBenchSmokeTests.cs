using System.Text.Json;
using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>
/// <c>--scenario webhooks</c> end to end at a small size: a pass without webhooks, then one where every
/// job carries a webhook to the load generator's loopback receiver. Asserts outcomes and the report's
/// shape, never throughput or lag.
/// </summary>
[Trait("Category", "Bench")]
public sealed class WebhookBenchSmokeTests
{
    private static readonly string[] JsonFields =
    [
        "scenario", "pass", "commit", "startedAt", "jobs", "accepted", "succeeded", "endToEndPerSec", "deliveries", "deliveriesPerSec",
        "workerCpuMsPerJob", "ownCpuMsPerJob", "cpuSeconds", "otherCpuSeconds", "ledgerMismatches", "endToEndRatio", "workerCpuRatio", "failures",
    ];

    [Fact]
    public async Task Smoke_EveryJobSucceeds_AndGetsExactlyOneSucceededDelivery_WithAndWithoutWebhooksInOneSitting()
    {
        var options = BenchOptions.Parse(["--scenario", "webhooks", "--jobs", "200", "--warmup", "20", "--concurrency", "16", "--users", "8", "--quiet"]);

        var report = Assert.IsType<WebhookBenchReport>(await BenchScenarios.RunAsync(
            options with { Timeout = TimeSpan.FromSeconds(45) }, line => TestContext.Current.TestOutputHelper?.WriteLine(line), TestContext.Current.CancellationToken));

        foreach (var pass in new[] { report.Plain, report.Webhooks })
        {
            Assert.Equal(200, pass.Accepted);
            Assert.Equal(200, pass.Succeeded);
            Assert.Equal(0, pass.NotTerminal);
            // Every user's balance and ledger match their jobs: no charge or refund twice, none lost.
            Assert.Equal(0, pass.LedgerMismatches);
        }

        Assert.Null(report.Plain.Deliveries);
        var deliveries = Assert.IsType<WebhookDeliveryFigures>(report.Webhooks.Deliveries);
        Assert.Equal(200, deliveries.Received);
        Assert.Equal(200, deliveries.ExactlyOne);
        Assert.Equal(0, deliveries.Missing);
        Assert.Equal(0, deliveries.Duplicates);
        Assert.Equal(0, deliveries.WrongType);
        Assert.Equal(0, report.Failures);

        var lines = report.JsonLines().ToList();
        Assert.Equal(2, lines.Count);
        using var json = JsonDocument.Parse(lines[1]);
        foreach (var field in JsonFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"The JSON line lacks '{field}'.");
        }

        Assert.Equal("webhooks", json.RootElement.GetProperty("scenario").GetString());
        Assert.Contains("worker-0", json.RootElement.GetProperty("cpuSeconds").EnumerateObject().Select(p => p.Name));
        Assert.Contains("| ratio (webhooks / plain) |", report.ToMarkdown(), StringComparison.Ordinal);
    }
}
