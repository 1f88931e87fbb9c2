using OpenTelemetry.Trace;

namespace Lumiku.ServiceDefaults.Telemetry;

/// <summary>
/// Drops Redis command spans that have no parent: the idle worker's polling (an XREADGROUP that
/// reads nothing, SET heartbeats, XLEN/XINFO for the queue gauges) and other background commands
/// would otherwise fill the dashboard's trace list with one root span per command. Commands made
/// inside a span (a request, a job) are decided by <paramref name="inner"/> as before.
/// </summary>
public sealed class RootRedisCommandSampler(Sampler inner) : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.ParentContext.TraceId == default && IsRedisCommand(samplingParameters.Tags))
        {
            return new SamplingResult(SamplingDecision.Drop);
        }

        return inner.ShouldSample(samplingParameters);
    }

    private static bool IsRedisCommand(IEnumerable<KeyValuePair<string, object?>>? tags)
    {
        if (tags is null)
        {
            return false;
        }

        foreach (var (key, value) in tags)
        {
            if (key is "db.system" or "db.system.name" && value is "redis")
            {
                return true;
            }
        }

        return false;
    }
}
