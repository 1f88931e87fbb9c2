using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>Passes a configuration section given to the AppHost on to a resource as environment variables.</summary>
public static class ForwardedConfigurationExtensions
{
    /// <summary>
    /// Every <c>{section}:*</c> setting of the AppHost (command line, environment, user secrets)
    /// becomes <c>{section}__*</c> in the resource, so
    /// <c>dotnet run --project Lumiku.AppHost -- --Emulator:Tier=free</c> reaches the emulator.
    /// </summary>
    public static IResourceBuilder<T> WithForwardedSection<T>(this IResourceBuilder<T> resource, string section)
        where T : IResourceWithEnvironment
    {
        var configuration = resource.ApplicationBuilder.Configuration.GetSection(section);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (value is not null)
            {
                resource.WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), value);
            }
        }

        return resource;
    }
}
