using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Worker.Flux;

/// <summary>
/// <c>POST /probe-models</c>: runs the model probe inside the worker (its token, its pipeline) and
/// answers the table as text, 200 when a model works (all, or some: jobs fall back), 503 otherwise. Development only: it is
/// what the dashboard's "Probe models" command calls; in production use the command line.
/// </summary>
public static class ProbeEndpoint
{
    public const string Path = "/probe-models";

    public static IEndpointRouteBuilder MapProbeEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, ProbeAsync);
        return app;
    }

    private static async Task<ContentHttpResult> ProbeAsync(ModelProbe probe, CancellationToken cancellationToken)
    {
        using var output = new StringWriter();
        var exitCode = await probe.RunAsync(output, cancellationToken);
        return TypedResults.Text(output.ToString(), "text/plain", statusCode: exitCode is ModelProbe.ExitCodes.AllModelsWork or ModelProbe.ExitCodes.SomeModelsWork
                ? StatusCodes.Status200OK
                : StatusCodes.Status503ServiceUnavailable);
    }
}
