using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumiku.InferenceEmulator;

/// <summary>The Hugging Face text-to-image route: <c>POST models/{owner}/{model}</c> (minimal first cut).</summary>
public static class TextToImageApi
{
    public static IEndpointRouteBuilder MapTextToImage(this IEndpointRouteBuilder app)
    {
        app.MapPost("/models/{owner}/{model}", Generate);
        return app;
    }

    private static async Task<IResult> Generate(string owner, string model, HttpRequest request)
    {
        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || auth.Length <= "Bearer ".Length)
        {
            return Error(401, "Invalid credentials in Authorization header");
        }

        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body);
        }
        catch (JsonException)
        {
            return Error(400, "Invalid JSON body");
        }

        var prompt = body?["inputs"]?.GetValue<string>() ?? "";
        var parameters = body?["parameters"];
        var width = parameters?["width"]?.GetValue<int>() ?? 1024;
        var height = parameters?["height"]?.GetValue<int>() ?? 1024;
        var seed = parameters?["seed"]?.GetValue<long>() ?? 0;
        var png = AvatarPainter.Paint(prompt, seed, width, height);
        return Results.Bytes(png, "image/png");
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new { error = message }, statusCode: status);
}
