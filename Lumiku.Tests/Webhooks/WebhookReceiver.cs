using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// A webhook receiver on Kestrel (loopback, any free port): keeps every request it gets, per path,
/// and answers what <see cref="Answer"/> says (200 unless a test scripts otherwise).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The status code for a request, given the request and how many came to its path before it.</summary>
    public Func<ReceivedWebhook, int, int> Answer { get; set; } = (_, _) => StatusCodes.Status200OK;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = ReceivedWebhook.Copy(http.Request.Headers);
            var path = http.Request.Path.Value!;
            int earlier;
            int status;
            lock (receiver._received)
            {
                earlier = receiver._received.Count(r => r.Path == path);
                var request = new ReceivedWebhook(path, body, headers, 0);
                status = receiver.Answer(request, earlier);
                receiver._received.Enqueue(request with { AnsweredWith = status });
            }

            return Results.StatusCode(status);
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.First();
        return receiver;
    }

    /// <summary>A fresh path on this receiver, so each test reads only its own deliveries.</summary>
    public string NewUrl() => $"{BaseUrl}/hooks/{Guid.NewGuid():N}";

    public IReadOnlyList<ReceivedWebhook> At(string url)
    {
        var path = new Uri(url).AbsolutePath;
        return [.. _received.Where(r => r.Path == path)];
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>One request the receiver got, and what it answered.</summary>
public sealed record ReceivedWebhook(string Path, string Body, HeaderDictionary Headers, int AnsweredWith)
{
    public string Id => Headers["webhook-id"].ToString();

    public string Signature => Headers["webhook-signature"].ToString();

    public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement;

    public string Type => Json.GetProperty("type").GetString()!;

    /// <summary>
    /// Whether a receiver holding <paramref name="secret"/> accepts it (the StandardWebhooks package
    /// decides). Each signature of the header is offered on its own: the spec has receivers accept any
    /// one that matches, but the package's 1.1.2 Verify stops before the last of several.
    /// </summary>
    public bool VerifiesWith(string secret) => Signature.Split(' ').Any(signature =>
    {
        var headers = Copy(Headers);
        headers["webhook-signature"] = signature;
        try
        {
            new StandardWebhook(secret).Verify(Body, headers);
            return true;
        }
        catch (WebhookVerificationException)
        {
            return false;
        }
    });

    public static HeaderDictionary Copy(IHeaderDictionary headers)
    {
        var copy = new HeaderDictionary();
        foreach (var (key, value) in headers)
        {
            copy[key] = value;
        }

        return copy;
    }
}
