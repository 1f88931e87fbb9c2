var builder = DistributedApplication.CreateBuilder(args);

// Redis: a container where a runtime answers, else a local redis-server (Redis:Mode).
var redis = builder.AddLumikuRedis("redis");

// Avatar images: one folder api and worker share (Storage:Mode=files, the default), or blob storage
// (Storage:Mode=blob: Azurite as a container or from npm; always when publishing, its connection string a secret).
var images = builder.AddLumikuImageStorage("images");

// Signs the api's tokens; generated once and kept in the AppHost's user secrets.
var jwtKey = builder.AddParameter("jwt-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

var api = builder.AddProject<Projects.Lumiku_Api>("api")
    .WithReference(redis).WaitFor(redis)
    .WithImageStorage(images)
    .WithEnvironment("Jwt__SigningKey", jwtKey)
    .WithForwardedSection("Credits")
    .WithForwardedSection("Telemetry")
    .WithForwardedSection("RateLimits")
    .WithForwardedSection("Webhooks")
    .WithForwardedSection("Limits")
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReplicas(builder.Configuration.ReplicasOf("Api"));

var worker = builder.AddProject<Projects.Lumiku_Worker>("worker")
    .WithReference(redis).WaitFor(redis)
    .WithImageStorage(images)
    .WithForwardedSection("Credits")
    .WithForwardedSection("Worker")
    .WithForwardedSection("Retention")
    .WithForwardedSection("Flux")
    .WithForwardedSection("Webhooks")
    .WithForwardedSection("Telemetry")
    .WithHttpHealthCheck("/health")
    .WithProbeModelsCommand()
    .WithReplicas(builder.Configuration.ReplicasOf("Worker"));

// The api lists a LoRA preset as available only when the worker's Flux:Providers can apply it.
foreach (var provider in builder.Configuration.GetSection("Flux:Providers").GetChildren())
{
    api.WithEnvironment($"Flux__Providers__{provider.Key}", provider.Value);
}

// Hugging Face with a token; without one, the local inference emulator (run mode only).
var hasToken = !string.IsNullOrWhiteSpace(builder.Configuration["Parameters:huggingface-token"]);
if (hasToken || builder.ExecutionContext.IsPublishMode)
{
    var token = builder.AddParameter("huggingface-token", secret: true);
    api.WithEnvironment("Inference__Provider", "huggingface");
    worker.WithEnvironment("Flux__Token", token)
        .WithEnvironment("Flux__BaseUrl", builder.Configuration["HuggingFace:BaseUrl"] ?? "https://router.huggingface.co/hf-inference/");
}
else
{
    var inference = builder.AddProject<Projects.Lumiku_InferenceEmulator>("inference")
        .WithForwardedSection("Emulator")
        .WithForwardedSection("Telemetry")
        .WithHttpHealthCheck("/health")
        .WithFaultCommands()
        .ExcludeFromManifest();
    api.WithEnvironment("Inference__Provider", "emulator");
    worker.WithReference(inference).WaitFor(inference)
        .WithEnvironment("Flux__BaseUrl", "http://inference/")
        .WithEnvironment("Flux__Token", "emulator-dev-token");
}

builder.Build().Run();
