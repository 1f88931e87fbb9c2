using Lumiku.Api.Apis;
using Lumiku.Api.Extensions;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestBodyLimit();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapGenerationsApi();
app.MapAvatarsApi();
app.MapPresetsApi();
app.MapCreditsApi();
app.MapWebhooksApi();
app.MapLedgerApi();
app.MapLifecycleApi();
app.MapAdminApi();

if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
    app.MapDevTokenApi();
    app.MapDevAboutApi();
}

app.Run();

/// <summary>Lets tests reach the entry point.</summary>
public partial class Program;
