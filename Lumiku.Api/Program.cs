using Lumiku.Api.Apis;
using Lumiku.Api.Extensions;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapGenerationsApi();
app.MapAvatarsApi();

if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
    app.MapDevTokenApi();
}

app.Run();

/// <summary>Lets tests reach the entry point.</summary>
public partial class Program;
