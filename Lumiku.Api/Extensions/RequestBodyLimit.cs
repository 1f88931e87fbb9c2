using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lumiku.Api.Extensions;

/// <summary>
/// Bodies over 64 KB answer 413 problem details. A declared Content-Length is refused before the
/// endpoint runs; a chunked body is cut off by Kestrel's limit while it is read, and
/// <see cref="BadRequestExceptionHandler"/> explains that.
/// </summary>
public static class RequestBodyLimit
{
    public const long MaxBytes = 64 * 1024;

    public static IHostApplicationBuilder AddRequestBodyLimit(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxBytes);
        return builder;
    }

    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.Request.ContentLength > MaxBytes)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            // The unread body is still on the wire: tell the client this connection ends here.
            http.Response.Headers.Connection = "close";
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "Request body too large",
                    Detail = $"Request bodies are limited to {MaxBytes / 1024} KB.",
                },
            });
            return;
        }

        await next(http);
    });
}
