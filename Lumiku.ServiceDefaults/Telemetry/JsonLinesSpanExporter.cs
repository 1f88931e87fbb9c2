using System.Diagnostics;
using System.Text.Json;
using OpenTelemetry;

namespace Lumiku.ServiceDefaults.Telemetry;

/// <summary>
/// Appends finished spans to a JSON-lines file (<c>Telemetry:ExportPath</c>): a zero-dependency
/// way to inspect traces without a collector, used by the end-to-end telemetry tests.
/// </summary>
public sealed class JsonLinesSpanExporter(string path) : BaseExporter<Activity>
{
    private readonly Lock _gate = new();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        using var buffer = new MemoryStream();
        foreach (var activity in batch)
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("traceId", activity.TraceId.ToHexString());
                json.WriteString("spanId", activity.SpanId.ToHexString());
                json.WriteString("parentSpanId", activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString());
                json.WriteString("name", activity.DisplayName);
                json.WriteString("kind", activity.Kind.ToString());
                json.WriteString("source", activity.Source.Name);
                json.WriteString("status", activity.Status.ToString());
                WriteTags(json, "tags", activity.TagObjects);
                json.WriteStartArray("events");
                foreach (var e in activity.Events)
                {
                    json.WriteStartObject();
                    json.WriteString("name", e.Name);
                    WriteTags(json, "tags", e.Tags);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("links");
                foreach (var link in activity.Links)
                {
                    json.WriteStartObject();
                    json.WriteString("traceId", link.Context.TraceId.ToHexString());
                    json.WriteString("spanId", link.Context.SpanId.ToHexString());
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            buffer.WriteByte((byte)'\n');
        }

        lock (_gate)
        {
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            buffer.Position = 0;
            buffer.CopyTo(file);
        }

        return ExportResult.Success;
    }

    internal static void WriteTags(Utf8JsonWriter json, string name, IEnumerable<KeyValuePair<string, object?>> tags)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in tags)
        {
            json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
        }

        json.WriteEndObject();
    }
}
