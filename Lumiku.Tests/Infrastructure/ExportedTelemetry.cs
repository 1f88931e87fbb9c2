using System.Text.Json;

namespace Lumiku.Tests.Infrastructure;

/// <summary>Reads what the services' JSON-lines exporters wrote (<c>Telemetry:ExportPath</c>).</summary>
public sealed class ExportedTelemetry(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public IReadOnlyList<ExportedSpan> Spans() => Read<ExportedSpan>("*.spans.jsonl");

    public IReadOnlyList<ExportedMetricPoint> Metrics() => Read<ExportedMetricPoint>("*.metrics.jsonl");

    /// <summary>Waits until a span matching <paramref name="predicate"/> was exported.</summary>
    public async Task<ExportedSpan> WaitForSpanAsync(Func<ExportedSpan, bool> predicate, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (Spans().FirstOrDefault(predicate) is { } span)
            {
                return span;
            }

            await Task.Delay(200, cts.Token);
        }
    }

    private List<T> Read<T>(string pattern)
    {
        var items = new List<T>();
        if (!Directory.Exists(path))
        {
            return items;
        }

        foreach (var file in Directory.GetFiles(path, pattern))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                // A line being written right now may be cut short; it is read on the next poll.
                if (line.Length > 0 && line[^1] == '}')
                {
                    try
                    {
                        items.Add(JsonSerializer.Deserialize<T>(line, Json)!);
                    }
                    catch (JsonException)
                    {
                    }
                }
            }
        }

        return items;
    }
}

public sealed record ExportedSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    string Source,
    string Status,
    Dictionary<string, string?> Tags,
    List<ExportedEvent> Events,
    List<ExportedLink> Links)
{
    public string? Tag(string name) => Tags.GetValueOrDefault(name);
}

public sealed record ExportedEvent(string Name, Dictionary<string, string?> Tags);

public sealed record ExportedLink(string TraceId, string SpanId);

public sealed record ExportedMetricPoint(string Meter, string Name, string Type, Dictionary<string, string?> Tags, double Value, long? Count);
