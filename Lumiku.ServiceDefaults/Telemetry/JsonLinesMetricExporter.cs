using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Lumiku.ServiceDefaults.Telemetry;

/// <summary>
/// Appends the Lumiku meters' points (sums, gauges, histogram counts and sums) to a JSON-lines
/// file on every export (<c>Telemetry:ExportPath</c>); companion of <see cref="JsonLinesSpanExporter"/>.
/// </summary>
public sealed class JsonLinesMetricExporter(string path) : BaseExporter<Metric>
{
    public override ExportResult Export(in Batch<Metric> batch)
    {
        using var buffer = new MemoryStream();
        foreach (var metric in batch)
        {
            if (!metric.MeterName.StartsWith("Lumiku.", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteString("meter", metric.MeterName);
                    json.WriteString("name", metric.Name);
                    json.WriteString("type", metric.MetricType.ToString());
                    var tags = new List<KeyValuePair<string, object?>>();
                    foreach (var tag in point.Tags)
                    {
                        tags.Add(tag);
                    }

                    JsonLinesSpanExporter.WriteTags(json, "tags", tags);
                    switch (metric.MetricType)
                    {
                        case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                            json.WriteNumber("value", point.GetSumLong());
                            break;
                        case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                            json.WriteNumber("value", point.GetSumDouble());
                            break;
                        case MetricType.LongGauge:
                            json.WriteNumber("value", point.GetGaugeLastValueLong());
                            break;
                        case MetricType.DoubleGauge:
                            json.WriteNumber("value", point.GetGaugeLastValueDouble());
                            break;
                        case MetricType.Histogram:
                            json.WriteNumber("count", point.GetHistogramCount());
                            json.WriteNumber("value", point.GetHistogramSum());
                            break;
                    }

                    json.WriteEndObject();
                }

                buffer.WriteByte((byte)'\n');
            }
        }

        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        buffer.Position = 0;
        buffer.CopyTo(file);
        return ExportResult.Success;
    }
}
