using Lumiku.Worker;
using Lumiku.Worker.Queue;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGenerationStore();
builder.AddFluxClient();
builder.AddGenerationConsumer();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
