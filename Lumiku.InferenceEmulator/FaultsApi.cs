using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// Changes fault knobs while the emulator runs, for tests and the AppHost: <c>PUT /faults</c> with a
/// JSON object of <see cref="EmulatorOptions"/> property names to values (<c>{"Error503Rate": 1.0}</c>)
/// replaces the runtime overrides, which apply on top of configuration from the next request on;
/// <c>DELETE /faults</c> goes back to configuration alone. Like <c>/stats</c>, unauthenticated: the
/// emulator is a local stand-in, never deployed.
/// </summary>
public static class FaultsApi
{
    public static IEndpointRouteBuilder MapFaultsApi(this IEndpointRouteBuilder app)
    {
        app.MapPut("/faults", SetFaults);
        app.MapDelete("/faults", (FaultOverrides faults) =>
        {
            faults.Clear();
            return TypedResults.NoContent();
        });
        return app;
    }

    private static Results<NoContent, ValidationProblem> SetFaults(Dictionary<string, JsonElement> faults, FaultOverrides overrides, IConfiguration configuration) =>
        overrides.TrySet(faults, configuration) is { } problems
            ? TypedResults.ValidationProblem(problems, title: "Not an applicable set of Emulator options")
            : TypedResults.NoContent();
}
