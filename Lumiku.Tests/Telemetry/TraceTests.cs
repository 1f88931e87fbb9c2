using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Telemetry;

/// <summary>Ops follow each job as one trace: api request → queue hop → worker → provider attempts → fallback.</summary>
[Collection(FallbackAppCollection.Name)]
public sealed class TraceTests(FallbackApp app)
{
    [Fact]
    public async Task FallbackJob_IsOneTrace_FromApiThroughStreamToEveryProviderAttempt()
    {
        var telemetry = new ExportedTelemetry(app.TelemetryPath);
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a beekeeper at dawn", width = 256, height = 256 });
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);

        var consumer = await telemetry.WaitForSpanAsync(s => s.Name == "process lumiku.generations" && s.Tag("lumiku.generation.id") == accepted.Id);
        var producer = await telemetry.WaitForSpanAsync(s => s.Name == "publish lumiku.generations" && s.Tag("lumiku.generation.id") == accepted.Id);
        var spans = telemetry.Spans().Where(s => s.TraceId == consumer.TraceId).ToList();

        // The queue hop: the consumer is the producer's child, and links to it.
        Assert.Equal(producer.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Contains(consumer.Links, l => l.SpanId == producer.SpanId);
        Assert.Equal("Producer", producer.Kind);
        Assert.Equal("Consumer", consumer.Kind);

        // The api's request span is the root of the trace.
        var request = Assert.Single(spans, s => s.SpanId == producer.ParentSpanId);
        Assert.Equal("Server", request.Kind);
        Assert.StartsWith("POST", request.Name, StringComparison.Ordinal);

        // Messaging and GenAI conventions.
        Assert.Equal("redis", producer.Tag("messaging.system"));
        Assert.Equal("lumiku:generations", producer.Tag("messaging.destination.name"));
        Assert.Equal("send", producer.Tag("messaging.operation.type"));
        Assert.Equal("redis", consumer.Tag("messaging.system"));
        Assert.Equal("process", consumer.Tag("messaging.operation.type"));
        Assert.Equal("avatar-workers", consumer.Tag("messaging.consumer.group.name"));
        Assert.False(string.IsNullOrEmpty(consumer.Tag("messaging.message.id")));
        Assert.Equal("black-forest-labs/FLUX.1-dev", consumer.Tag("gen_ai.request.model"));
        Assert.Equal("black-forest-labs/FLUX.1-schnell", consumer.Tag("gen_ai.response.model"));
        Assert.Equal("huggingface", consumer.Tag("gen_ai.provider.name"));

        // Every provider attempt is an HTTP client span in this trace, below the consumer: dev's 400, then schnell.
        var attempts = spans.Where(s => s.Kind == "Client" && s.Tag("url.full")?.Contains("/models/", StringComparison.Ordinal) == true).ToList();
        Assert.Contains(attempts, s => s.Tag("url.full")!.EndsWith("FLUX.1-dev", StringComparison.Ordinal) && s.Tag("http.response.status_code") == "400");
        Assert.Contains(attempts, s => s.Tag("url.full")!.EndsWith("FLUX.1-schnell", StringComparison.Ordinal) && s.Tag("http.response.status_code") == "200");
        Assert.All(attempts, a => Assert.True(IsDescendant(a, consumer, spans), $"{a.Name} is not below the consumer span"));

        // Dev's 400 is the expected, handled outcome of a job that succeeded: not an error span, but
        // an event that says so. Nothing in the trace reads as a failure.
        var refused = Assert.Single(attempts, s => s.Tag("http.response.status_code") == "400");
        Assert.NotEqual("Error", refused.Status);
        Assert.Contains(refused.Events, e => e.Name == "lumiku.flux.fallback_status_handled" && e.Tags.GetValueOrDefault("lumiku.flux.outcome") == "expected 400: this job falls back to black-forest-labs/FLUX.1-schnell");
        Assert.DoesNotContain(spans, s => s.Status == "Error");

        // The emulator's server spans join the same trace.
        Assert.Contains(spans, s => s.Kind == "Server" && s.Source.Contains("AspNetCore", StringComparison.Ordinal) && s.Name.Contains("models", StringComparison.Ordinal));

        // The fallback is a span event carrying the primary's status and error.
        var fallback = spans.SelectMany(s => s.Events).FirstOrDefault(e => e.Name == "lumiku.flux.fallback");
        Assert.NotNull(fallback);
        Assert.Contains(fallback.Tags.Values, v => v == "400");
        Assert.Contains(fallback.Tags.Values, v => v?.Contains("Upgrade to PRO", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task FallbackCounter_DurationHistograms_AndQueueGauges_AreReported()
    {
        var telemetry = new ExportedTelemetry(app.TelemetryPath);
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a cartographer with a map", width = 256, height = 256 });
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var points = telemetry.Metrics();
            var fallbacks = points.Where(p => p.Name == "lumiku.generations.fallbacks").Sum(p => p.Value);
            var durations = points.Where(p => p.Name == "lumiku.generation.duration").Sum(p => p.Count ?? 0);
            var completed = points.Where(p => p.Name == "lumiku.generations.completed" && p.Tags.GetValueOrDefault("outcome") == "succeeded").Sum(p => p.Value);
            var gauges = points.Where(p => p.Name is "lumiku.queue.length" or "lumiku.queue.pending" or "lumiku.queue.lag").Select(p => p.Name).Distinct().Count();
            // Provider latency per attempt: dev's 400 and schnell's 200 are separate series.
            var attempts = points.Where(p => p.Name == "lumiku.flux.attempt.duration" && p.Count > 0).ToList();
            var devRefused = attempts.Any(p => p.Tags.GetValueOrDefault("lumiku.flux.model") == "black-forest-labs/FLUX.1-dev"
                && p.Tags.GetValueOrDefault("http.response.status_code") == "400" && p.Tags.GetValueOrDefault("error.type") == "400");
            var schnellServed = attempts.Any(p => p.Tags.GetValueOrDefault("lumiku.flux.model") == "black-forest-labs/FLUX.1-schnell"
                && p.Tags.GetValueOrDefault("http.response.status_code") == "200" && !p.Tags.ContainsKey("error.type"));
            if (fallbacks >= 1 && durations >= 1 && completed >= 1 && gauges == 3 && devRefused && schnellServed)
            {
                break;
            }

            await Task.Delay(250, cts.Token);
        }
    }

    [Fact]
    public async Task IdleWorker_For30Seconds_ExportsNoRootSpan()
    {
        // Every service of the app exports here; the worker polls the stream and reports the queue
        // gauges all along. Only real work may start a trace.
        var telemetry = new ExportedTelemetry(app.TelemetryPath);
        var before = RootSpans(telemetry).Select(s => s.SpanId).ToHashSet();

        await Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var during = RootSpans(telemetry).Where(s => !before.Contains(s.SpanId)).Select(s => $"{s.Source} {s.Name}").ToList();
        Assert.Empty(during);
    }

    private static List<ExportedSpan> RootSpans(ExportedTelemetry telemetry) =>
        [.. telemetry.Spans().Where(s => string.IsNullOrEmpty(s.ParentSpanId))];

    private static bool IsDescendant(ExportedSpan span, ExportedSpan ancestor, List<ExportedSpan> spans)
    {
        var byId = spans.ToDictionary(s => s.SpanId);
        for (var current = span; current.ParentSpanId is { } parent && byId.TryGetValue(parent, out var next); current = next)
        {
            if (next.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }
}
