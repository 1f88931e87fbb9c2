using System.Net.Http.Headers;
using Lumiku.Worker.Flux;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the Flux client with its HTTP pipeline.</summary>
public static class FluxServiceExtensions
{
    public static TBuilder AddFluxClient<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<FluxOptions>()
            .BindConfiguration(FluxOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddHttpClient<IFluxClient, FluxClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<FluxOptions>>().Value;
            http.BaseAddress = options.BaseUrl;
            http.Timeout = Timeout.InfiniteTimeSpan;
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        });
        return builder;
    }
}
