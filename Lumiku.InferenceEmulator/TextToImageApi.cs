using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// The Hugging Face router's text-to-image routes: hf-inference's <c>POST models/{owner}/{model}</c>, as it and
/// the official JS client see it (bearer token, JSON body <c>{"inputs", "parameters"}</c>, raw image bytes
/// back, <c>{"error": ...}</c> on failure and an <c>x-request-id</c> on every answer), and the third-party
/// providers' routes (<see cref="ProviderRoutes"/>) through the same checks, tiers and fault knobs, each with its own options.
/// </summary>
public static class TextToImageApi
{
    /// <summary>The only keys the real route accepts in <c>parameters</c>; anything else (lora, scheduler...) is a 400.</summary>
    public static readonly IReadOnlySet<string> KnownParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "width", "height", "num_inference_steps", "guidance_scale", "negative_prompt", "seed",
    };

    private const int MinSide = 256;
    private const int MaxSide = 1440;
    private const int SideStep = 16;
    private const int RecordedBodyChars = 4096;
    private const int ClientClosedRequest = 499;

    public static IEndpointRouteBuilder MapTextToImageApi(this IEndpointRouteBuilder app)
    {
        // hf-inference at the router's own path, and at the emulator's root for configurations from before providers.
        app.MapPost("/models/{owner}/{model}", (string owner, string model, HttpContext http, [AsParameters] EmulatorServices services) =>
            ServeAsync(ProviderRoutes.HfInference, owner + "/" + model, http, services));
        app.MapPost("/hf-inference/models/{owner}/{model}", (string owner, string model, HttpContext http, [AsParameters] EmulatorServices services) =>
            ServeAsync(ProviderRoutes.HfInference, owner + "/" + model, http, services));
        app.MapProviderRoutes();
        app.MapGet("/stats", (EmulatorStats stats) => TypedResults.Ok(stats.Snapshot()));
        app.MapDelete("/stats", (EmulatorStats stats) =>
        {
            stats.Reset();
            return TypedResults.NoContent();
        });
        return app;
    }

    /// <summary>One text-to-image request to <paramref name="route"/>'s provider for <paramref name="modelId"/> (the provider's own id), answered and recorded.</summary>
    internal static async Task<IResult> ServeAsync(ProviderRoute route, string modelId, HttpContext http, EmulatorServices services)
    {
        var receivedAt = services.Clock.Time.GetUtcNow();
        var requestId = Guid.NewGuid().ToString("N");
        http.Response.Headers["x-request-id"] = requestId;

        var body = await ReadBodyAsync(http.Request, http.RequestAborted);
        (int Status, IResult Result) answer;
        try
        {
            answer = await AnswerAsync(route, modelId, http, body, services);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (its attempt timeout): recorded as nginx's 499 so tests can count cut attempts.
            answer = (ClientClosedRequest, Results.Empty);
        }

        services.Stats.Record(new RecordedRequest(
            modelId,
            answer.Status,
            body.Keys,
            body.Json is JsonObject o ? route.ParameterNames(o) : [],
            body.Raw is { Length: > RecordedBodyChars } raw ? raw[..RecordedBodyChars] : body.Raw,
            http.Request.Headers.Accept.ToString() is { Length: > 0 } accept ? accept : null,
            requestId,
            services.Clock.Time.GetUtcNow(),
            route.Provider,
            receivedAt));
        return answer.Result;
    }

    private static async Task<(int Status, IResult Result)> AnswerAsync(ProviderRoute route, string modelId, HttpContext http, RequestBody body, EmulatorServices services)
    {
        var options = services.Options.Get(route.Provider);
        var authorization = http.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..].Trim() : "";
        if (token.Length == 0 || (!string.IsNullOrEmpty(options.Token) && token != options.Token))
        {
            return Error(StatusCodes.Status401Unauthorized, "Invalid credentials in Authorization header");
        }

        if (services.RateLimit.TryAcquire() is { } resetIn)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(resetIn.TotalSeconds));
            // The router's headers: the IETF draft RateLimit fields, t= being seconds until reset.
            http.Response.Headers["RateLimit"] = $"\"api\";r=0;t={seconds}";
            http.Response.Headers["RateLimit-Policy"] = $"\"fixed window\";\"api\";q={options.RateLimitRequests};w={(int)options.RateLimitWindow.TotalSeconds}";
            if (options.SendRetryAfter)
            {
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return Error(StatusCodes.Status429TooManyRequests, "You have exceeded your rate limit. Please retry later.");
        }

        if (!options.Serves(modelId))
        {
            return Error(StatusCodes.Status404NotFound, $"Model {modelId} does not exist");
        }

        if (body.Json is not JsonObject json)
        {
            return Error(StatusCodes.Status400BadRequest, "Invalid JSON body: expected an object with \"inputs\"");
        }

        var unknown = route.UnknownFields(json, modelId);
        if (unknown.Count > 0)
        {
            return Error(StatusCodes.Status400BadRequest, "Unknown parameter(s): " + string.Join(", ", unknown));
        }

        if (!route.TryRead(json, modelId, out var request, out var problem))
        {
            // The real route reports validation failures as a list.
            return (StatusCodes.Status422UnprocessableEntity, Results.Json(new { error = new[] { problem } }, statusCode: StatusCodes.Status422UnprocessableEntity));
        }

        if (options.HasNoCredits)
        {
            return Error(StatusCodes.Status402PaymentRequired, $"You have exceeded your monthly included credits for Inference Providers (provider {route.Provider}). Subscribe to PRO to get 20x more monthly included credits.");
        }

        if (options.Denies(modelId))
        {
            return Error(StatusCodes.Status400BadRequest, "Model access denied. Upgrade to PRO.");
        }

        var loading = services.ColdStarts.Remaining(route.Provider + ":" + modelId);
        if (loading > TimeSpan.Zero)
        {
            return (StatusCodes.Status503ServiceUnavailable, Results.Json(
                new { error = $"Model {modelId} is currently loading", estimated_time = Math.Round(loading.TotalSeconds, 1) },
                statusCode: StatusCodes.Status503ServiceUnavailable));
        }

        if (!string.IsNullOrEmpty(options.FailPromptsContaining) && request.Prompt.Contains(options.FailPromptsContaining, StringComparison.Ordinal))
        {
            return (StatusCodes.Status500InternalServerError, Results.Text("upstream inference worker crashed on this input", "text/plain", statusCode: StatusCodes.Status500InternalServerError));
        }

        if (Roll(options.Error429Rate))
        {
            http.Response.Headers["RateLimit"] = "\"api\";r=0;t=1";
            http.Response.Headers.RetryAfter = "1";
            return Error(StatusCodes.Status429TooManyRequests, "You have exceeded your rate limit. Please retry later.");
        }

        if (Roll(options.Error500Rate))
        {
            // Plain text on purpose: clients must cope with non-JSON error bodies.
            return (StatusCodes.Status500InternalServerError, Results.Text("upstream inference worker crashed", "text/plain", statusCode: StatusCodes.Status500InternalServerError));
        }

        if (Roll(options.Error503Rate))
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "Service Unavailable");
        }

        if (Roll(options.TimeoutRate))
        {
            await Task.Delay(options.TimeoutDuration, services.Clock.Time, http.RequestAborted);
            return Error(StatusCodes.Status504GatewayTimeout, "Gateway Timeout");
        }

        var latency = TimeSpan.FromMilliseconds(options.LatencyMs + ((long)options.StepLatencyMs * request.Steps));
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, services.Clock.Time, http.RequestAborted);
        }

        var png = Roll(options.NotAnImageRate)
            ? Encoding.UTF8.GetBytes("<html><body>not an image</body></html>")
            : await services.Images.GetAsync(request.Prompt, request.Seed, request.Width, request.Height, http.RequestAborted);
        if (route.Provider != EmulatorProviders.HfInference)
        {
            return (route.AnswerStatus, route.Answer(png, request, modelId, http, services));
        }

        http.Response.Headers["x-inference-steps"] = request.Steps.ToString(CultureInfo.InvariantCulture);
        var (bytes, contentType) = options.AnswersJson
            ? (JsonSerializer.SerializeToUtf8Bytes(new { data = new[] { new { b64_json = Convert.ToBase64String(png) } } }), "application/json")
            : (png, "image/png");
        if (Roll(options.StallBodyRate))
        {
            await StallBodyAsync(http.Response, bytes, contentType, options.StallBodyDuration, services, http.RequestAborted);
            return (StatusCodes.Status200OK, Results.Empty);
        }

        return (StatusCodes.Status200OK, Results.Bytes(bytes, contentType));
    }

    /// <summary>
    /// Sends the status, the headers (with the full Content-Length) and half the body, then stalls before
    /// the rest, as a provider whose connection hangs mid-answer: only a client that bounds its body read
    /// gets its job slot back. A client that gives up is recorded as 499.
    /// </summary>
    private static async Task StallBodyAsync(HttpResponse response, byte[] body, string contentType, TimeSpan stall, EmulatorServices services, CancellationToken aborted)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        var half = body.Length / 2;
        await response.Body.WriteAsync(body.AsMemory(0, half), aborted);
        await response.Body.FlushAsync(aborted);
        using (services.Stats.Stall())
        {
            await Task.Delay(stall, services.Clock.Time, aborted);
        }

        await response.Body.WriteAsync(body.AsMemory(half), aborted);
    }

    /// <summary>
    /// The generation a body asks for: the prompt under <paramref name="promptKey"/> of <paramref name="holder"/>,
    /// width and height from <paramref name="size"/>, steps under <paramref name="stepsKey"/> and seed from <paramref name="parameters"/>.
    /// </summary>
    internal static bool TryRead(JsonObject holder, string promptKey, JsonObject? parameters, JsonObject? size, string stepsKey, string modelId, out ImageRequest request, out string problem)
    {
        request = default;
        problem = "";
        if (holder[promptKey] is not JsonValue inputs || !inputs.TryGetValue<string>(out var prompt) || string.IsNullOrWhiteSpace(prompt))
        {
            problem = "Input should be a valid string: " + promptKey;
            return false;
        }

        var schnell = EmulatorProviders.SchnellIds.Contains(modelId);
        if (!TryInt(size, "width", 1024, out var width) || !TryInt(size, "height", 1024, out var height)
            || !TryInt(parameters, stepsKey, schnell ? 4 : 30, out var steps)
            || !TryLong(parameters, "seed", 0, out var seed))
        {
            problem = $"Input should be a valid integer: width, height, {stepsKey}, seed";
            return false;
        }

        foreach (var (name, side) in new[] { ("width", width), ("height", height) })
        {
            if (side is < MinSide or > MaxSide || side % SideStep != 0)
            {
                problem = $"{name} must be {MinSide} to {MaxSide} and a multiple of {SideStep}";
                return false;
            }
        }

        if (steps is < 1 or > 100)
        {
            problem = $"{stepsKey} must be 1 to 100";
            return false;
        }

        request = new ImageRequest(prompt, width, height, steps, seed);
        return true;
    }

    private static bool TryInt(JsonObject? parameters, string name, int fallback, out int value)
    {
        value = fallback;
        return parameters?[name] is not { } node || (node is JsonValue v && v.TryGetValue(out value));
    }

    private static bool TryLong(JsonObject? parameters, string name, long fallback, out long value)
    {
        value = fallback;
        return parameters?[name] is not { } node || (node is JsonValue v && v.TryGetValue(out value));
    }

    private static async Task<RequestBody> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var raw = await reader.ReadToEndAsync(cancellationToken);
        try
        {
            var json = JsonNode.Parse(raw);
            var keys = json is JsonObject o ? o.Select(p => p.Key).ToArray() : [];
            return new RequestBody(raw, json, keys);
        }
        catch (JsonException)
        {
            return new RequestBody(raw, null, []);
        }
    }

    internal static bool Roll(double rate) => rate > 0 && Random.Shared.NextDouble() < rate;

    internal static (int, IResult) Error(int status, string message) =>
        (status, Results.Json(new { error = message }, statusCode: status));

    private readonly record struct RequestBody(string Raw, JsonNode? Json, string[] Keys);

    internal readonly record struct ImageRequest(string Prompt, int Width, int Height, int Steps, long Seed);
}
