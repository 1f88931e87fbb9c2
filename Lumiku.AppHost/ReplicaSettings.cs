using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary><c>Api:Replicas</c> and <c>Worker:Replicas</c>: how many processes of a project the AppHost runs.</summary>
public static class ReplicaSettings
{
    /// <summary><c>{section}:Replicas</c>, default 1; anything but a whole number from 1 up stops the AppHost at start.</summary>
    public static int ReplicasOf(this IConfiguration configuration, string section)
    {
        var key = section + ":Replicas";
        return configuration[key] switch
        {
            null or "" => 1,
            var value when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var replicas) && replicas >= 1 => replicas,
            var value => throw new DistributedApplicationException($"{key} must be a whole number from 1 up, not '{value}'."),
        };
    }
}
