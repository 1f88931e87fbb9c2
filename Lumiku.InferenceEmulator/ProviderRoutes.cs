using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// One provider's text-to-image wire shape: which fields it takes (anything else is a 400, so a client
/// that sends an undocumented field finds out here), where the prompt, size, steps and seed are, and
/// how the image goes back. Shapes as huggingface_hub (<c>inference/_providers/*.py</c>) and
/// huggingface.js (<c>packages/inference/src/providers/*.ts</c>) send and read them.
/// </summary>
public abstract class ProviderRoute
{
    public abstract string Provider { get; }

    /// <summary>Fields of the body the provider does not take for <paramref name="modelId"/>.</summary>
    public abstract IReadOnlyList<string> UnknownFields(JsonObject body, string modelId);

    /// <summary>The keys of the object that holds the generation's parameters (recorded for tests).</summary>
    public abstract IReadOnlyList<string> ParameterNames(JsonObject body);

    internal abstract bool TryRead(JsonObject body, string modelId, out TextToImageApi.ImageRequest request, out string problem);

    /// <summary>The status of an answer with an image (Replicate creates a prediction: 201).</summary>
    public virtual int AnswerStatus => StatusCodes.Status200OK;

    internal virtual IResult Answer(byte[] image, TextToImageApi.ImageRequest request, string modelId, HttpContext http, EmulatorServices services) =>
        throw new NotSupportedException();

    protected static List<string> Outside(IEnumerable<string> keys, IReadOnlySet<string> allowed) => [.. keys.Where(k => !allowed.Contains(k))];

    protected static HashSet<string> Set(params string[] keys) => new(keys, StringComparer.Ordinal);
}

/// <summary>The emulator's provider routes at the router's own paths.</summary>
public static class ProviderRoutes
{
    public static readonly ProviderRoute HfInference = new HfInferenceRoute();
    public static readonly ProviderRoute FalAi = new FalAiRoute();
    public static readonly ProviderRoute Replicate = new ReplicateRoute();
    public static readonly ProviderRoute Together = new TogetherRoute();

    public static IEndpointRouteBuilder MapProviderRoutes(this IEndpointRouteBuilder app)
    {
        // fal: the model id is the rest of the path ("fal-ai/flux/dev"); "?_subdomain=queue" is the queue API huggingface.js uses.
        app.MapPost("/fal-ai/{**model}", (string model, HttpContext http, [AsParameters] EmulatorServices services) =>
            TextToImageApi.ServeAsync(FalAi, model, http, services));
        app.MapGet("/fal-ai/{**path}", (string path, IssuedImages issued) => FalQueueAnswer(path, issued));
        app.MapPost("/replicate/v1/models/{owner}/{name}/predictions", (string owner, string name, HttpContext http, [AsParameters] EmulatorServices services) =>
            TextToImageApi.ServeAsync(Replicate, owner + "/" + name, http, services));
        app.MapGet("/replicate/v1/predictions/{id}", (string id, HttpContext http) => ReplicateRoute.Poll(id, http));
        app.MapPost("/together/v1/images/generations", async (HttpContext http, [AsParameters] EmulatorServices services) =>
        {
            // Together names the model in the body; peek at it (the body is read again by ServeAsync).
            http.Request.EnableBuffering();
            var model = "";
            try
            {
                model = (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false) as JsonObject)?["model"] is JsonValue v && v.TryGetValue<string>(out var m) ? m : "";
            }
            catch (JsonException)
            {
                // Not JSON: ServeAsync answers it as the route does.
            }

            http.Request.Body.Position = 0;
            return await TextToImageApi.ServeAsync(Together, model, http, services);
        });
        app.MapGet("/" + IssuedImages.Route + "{id}", (string id, IssuedImages images) =>
            images.Get(id) is { } bytes ? Results.Bytes(bytes, "image/png") : Results.NotFound());
        return app;
    }

    private static IResult Queued(string model, JsonObject done, IssuedImages issued)
    {
        var id = Guid.NewGuid().ToString("N");
        issued.KeepResult(id, done.ToJsonString());
        var responseUrl = $"https://queue.fal.run/{model}/requests/{id}";
        return Results.Json(new
        {
            request_id = id,
            status = "IN_QUEUE",
            response_url = responseUrl,
            status_url = responseUrl + "/status",
            cancel_url = responseUrl + "/cancel",
            queue_position = 0,
        });
    }

    private static IResult FalQueueAnswer(string path, IssuedImages issued)
    {
        var parts = path.Split('/');
        var status = parts[^1] == "status";
        var id = status ? parts[^2] : parts[^1];
        if (issued.Result(id) is not { } result)
        {
            return Results.Json(new { detail = $"Request {id} not found" }, statusCode: StatusCodes.Status404NotFound);
        }

        return status ? Results.Json(new { status = "COMPLETED", request_id = id }) : Results.Text(result, "application/json");
    }

    private sealed class HfInferenceRoute : ProviderRoute
    {
        private static readonly HashSet<string> Top = Set("inputs", "parameters");

        public override string Provider => EmulatorProviders.HfInference;

        public override IReadOnlyList<string> UnknownFields(JsonObject body, string modelId) =>
            [.. Outside(body.Select(p => p.Key), Top), .. Outside(ParameterNames(body), TextToImageApi.KnownParameters)];

        public override IReadOnlyList<string> ParameterNames(JsonObject body) =>
            body["parameters"] is JsonObject p ? [.. p.Select(x => x.Key)] : [];

        internal override bool TryRead(JsonObject body, string modelId, out TextToImageApi.ImageRequest request, out string problem) =>
            TextToImageApi.TryRead(body, "inputs", body["parameters"] as JsonObject, body["parameters"] as JsonObject, "num_inference_steps", modelId, out request, out problem);
    }

    /// <summary>fal's FLUX endpoints: <c>image_size</c> (huggingface_hub) or <c>width</c>/<c>height</c> passed through (huggingface.js); <c>loras</c> only on flux-lora.</summary>
    private sealed class FalAiRoute : ProviderRoute
    {
        private static readonly HashSet<string> Allowed = Set(
            "prompt", "image_size", "width", "height", "num_inference_steps", "guidance_scale", "seed",
            "num_images", "enable_safety_checker", "sync_mode", "output_format", "acceleration");

        public override string Provider => EmulatorProviders.FalAi;

        public override IReadOnlyList<string> UnknownFields(JsonObject body, string modelId) =>
            Outside(body.Select(p => p.Key).Where(k => !(k == "loras" && modelId == EmulatorProviders.FalLora)), Allowed);

        public override IReadOnlyList<string> ParameterNames(JsonObject body) => [.. body.Select(p => p.Key)];

        internal override bool TryRead(JsonObject body, string modelId, out TextToImageApi.ImageRequest request, out string problem) =>
            TextToImageApi.TryRead(body, "prompt", body, body["image_size"] as JsonObject ?? body, "num_inference_steps", modelId, out request, out problem);

        internal override IResult Answer(byte[] image, TextToImageApi.ImageRequest request, string modelId, HttpContext http, EmulatorServices services)
        {
            var done = new JsonObject
            {
                ["images"] = new JsonArray(new JsonObject
                {
                    ["url"] = services.Issued.Issue(http.Request, image),
                    ["width"] = request.Width,
                    ["height"] = request.Height,
                    ["content_type"] = "image/png",
                }),
                ["seed"] = request.Seed,
                ["has_nsfw_concepts"] = new JsonArray(false),
                ["prompt"] = request.Prompt,
            };
            // huggingface.js submits to the queue and polls; huggingface_hub waits on the plain route.
            return http.Request.Query["_subdomain"] == "queue" ? Queued(modelId, done, services.Issued) : Results.Json(done);
        }
    }

    /// <summary>Replicate predictions: <c>{"input": {...}}</c>, the text-to-image parameters passed through; <c>lora_weights</c> only on flux-dev-lora.</summary>
    private sealed class ReplicateRoute : ProviderRoute
    {
        private static readonly HashSet<string> Allowed = Set(
            "prompt", "width", "height", "num_inference_steps", "guidance_scale", "seed",
            "aspect_ratio", "num_outputs", "output_format", "output_quality", "go_fast", "guidance", "megapixels", "disable_safety_checker");

        public override string Provider => EmulatorProviders.Replicate;

        public override int AnswerStatus => StatusCodes.Status201Created;

        public override IReadOnlyList<string> UnknownFields(JsonObject body, string modelId) =>
            [.. Outside(body.Select(p => p.Key), Set("input")),
             .. Outside(ParameterNames(body).Where(k => !(k == "lora_weights" && modelId == EmulatorProviders.ReplicateLora)), Allowed)];

        public override IReadOnlyList<string> ParameterNames(JsonObject body) =>
            body["input"] is JsonObject p ? [.. p.Select(x => x.Key)] : [];

        internal override bool TryRead(JsonObject body, string modelId, out TextToImageApi.ImageRequest request, out string problem)
        {
            var input = body["input"] as JsonObject ?? [];
            return TextToImageApi.TryRead(input, "prompt", input, input, "num_inference_steps", modelId, out request, out problem);
        }

        // Predictions still running (Emulator:RunningPolls): id → (polls left answering "processing", the finished prediction).
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int PollsLeft, object Done)> Running = new();

        internal override IResult Answer(byte[] image, TextToImageApi.ImageRequest request, string modelId, HttpContext http, EmulatorServices services)
        {
            var id = Guid.NewGuid().ToString("N")[..26];
            var get = $"{http.Request.Scheme}://{http.Request.Host}/replicate/v1/predictions/{id}";
            var urls = new { get, cancel = get + "/cancel" };
            var done = new { id, model = modelId, status = "succeeded", output = new[] { services.Issued.Issue(http.Request, image) }, urls };
            var polls = services.Options.Get(Provider).RunningPolls;
            if (polls == 0)
            {
                return Results.Json(done, statusCode: StatusCodes.Status201Created);
            }

            Running[id] = (polls - 1, done);
            return Results.Json(new { id, model = modelId, status = "processing", output = (string[]?)null, urls }, statusCode: StatusCodes.Status201Created);
        }

        /// <summary><c>GET replicate/v1/predictions/{id}</c>: <c>processing</c> while polls are left, then the finished prediction (a bearer token needed, as Replicate asks).</summary>
        internal static IResult Poll(string id, HttpContext http)
        {
            if (!http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                return Results.Json(new { detail = "Authentication credentials were not provided." }, statusCode: StatusCodes.Status401Unauthorized);
            }

            if (!Running.TryGetValue(id, out var prediction))
            {
                return Results.Json(new { detail = "Not found." }, statusCode: StatusCodes.Status404NotFound);
            }

            if (prediction.PollsLeft > 0)
            {
                Running[id] = prediction with { PollsLeft = prediction.PollsLeft - 1 };
                // Replicate repeats urls here; left out so a client that needs them only from the create is tested.
                return Results.Json(new { id, status = "processing", output = (string[]?)null });
            }

            Running.TryRemove(id, out _);
            return Results.Json(prediction.Done);
        }
    }

    /// <summary>Together's images API: <c>steps</c>, <c>guidance</c>, <c>response_format</c> and the provider's <c>model</c> in the body.</summary>
    private sealed class TogetherRoute : ProviderRoute
    {
        private static readonly HashSet<string> Allowed = Set(
            "prompt", "model", "width", "height", "steps", "seed", "n", "negative_prompt", "response_format", "guidance", "output_format", "disable_safety_checker");

        public override string Provider => EmulatorProviders.Together;

        public override IReadOnlyList<string> UnknownFields(JsonObject body, string modelId) => Outside(body.Select(p => p.Key), Allowed);

        public override IReadOnlyList<string> ParameterNames(JsonObject body) => [.. body.Select(p => p.Key)];

        internal override bool TryRead(JsonObject body, string modelId, out TextToImageApi.ImageRequest request, out string problem) =>
            TextToImageApi.TryRead(body, "prompt", body, body, "steps", modelId, out request, out problem);

        internal override IResult Answer(byte[] image, TextToImageApi.ImageRequest request, string modelId, HttpContext http, EmulatorServices services) =>
            Results.Json(new
            {
                id = Guid.NewGuid().ToString("N"),
                model = modelId,
                @object = "list",
                data = new[] { new { index = 0, b64_json = Convert.ToBase64String(image) } },
            });
    }
}
