using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Lumiku.InferenceEmulator;

namespace Lumiku.Tests.Emulator;

/// <summary>The emulator speaks the Hugging Face route as the official JS client and the router do.</summary>
public sealed class EmulatorTests
{
    // What @huggingface/inference 4.13.30 puts on the wire for textToImage.
    private const string JsClientBody = """{"inputs":"A professional headshot of a 25-year-old woman","parameters":{"width":512,"height":512,"num_inference_steps":4,"guidance_scale":0,"seed":42}}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OfficialJsClientWireFormat_WithAcceptAny_GetsAPng()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var response = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal("image/png", Worker.Flux.ImageSniffer.ContentTypeOf(bytes));
        Assert.True(response.Headers.Contains("x-request-id"));
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count(EmulatorOptions.FluxSchnell, 200));
        Assert.Equal("*/*", stats.Recent.Single().Accept);
    }

    [Fact]
    public async Task SameSeedPromptAndSize_GiveTheSameImage()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var first = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);
        using var second = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(await first.Content.ReadAsByteArrayAsync(Ct), await second.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task LoraParameters_Answer400_NamingThem()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        using var request = JsClientRequest(EmulatorOptions.FluxDev, EmulatorHost.Token,
            """{"inputs":"a portrait","parameters":{"width":512,"height":512,"lora":"some/lora","lora_scale":0.8}}""");

        using var response = await emulator.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Unknown parameter(s): lora, lora_scale", (await response.Content.ReadFromJsonAsync<ErrorBody>(Ct))!.Error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("hf_not-the-right-token")]
    public async Task MissingOrWrongToken_Answers401(string? token)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var response = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, token), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, (await emulator.StatsAsync()).Count(EmulatorOptions.FluxSchnell, 401));
    }

    [Fact]
    public async Task FreeTier_DeniesDevWith400_AndServesSchnell()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });

        using var dev = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxDev, EmulatorHost.Token), Ct);
        using var schnell = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, dev.StatusCode);
        Assert.Equal("Model access denied. Upgrade to PRO.", (await dev.Content.ReadFromJsonAsync<ErrorBody>(Ct))!.Error);
        Assert.Equal(HttpStatusCode.OK, schnell.StatusCode);
    }

    [Fact]
    public async Task UnknownModel_Answers404()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var response = await emulator.Http.SendAsync(JsClientRequest("stabilityai/not-served", EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task RateLimit_Answers429_WithRetryAfterAndRateLimitHeaders()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:RateLimitRequests"] = "1",
            ["Emulator:RateLimitWindow"] = "00:01:00",
        });

        using var first = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);
        using var second = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Matches("t=[0-9]+", string.Join(",", second.Headers.GetValues("RateLimit")));
    }

    [Fact]
    public async Task ColdStart_Answers503WithEstimatedTime()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:ColdStart"] = "00:00:30" });

        using var response = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<ErrorBody>(Ct);
        Assert.Contains("is currently loading", body!.Error);
        Assert.InRange(body.Estimated_time!.Value, 1, 30);
    }

    [Fact]
    public async Task ImageKb_PadsThePng_WhichStillDecodesToTheSamePicture()
    {
        await using var plain = await EmulatorHost.StartAsync();
        await using var padded = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:ImageKb"] = "150" });

        using var small = await plain.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);
        using var big = await padded.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);
        var smallBytes = await small.Content.ReadAsByteArrayAsync(Ct);
        var bigBytes = await big.Content.ReadAsByteArrayAsync(Ct);

        Assert.InRange(bigBytes.Length, 150 * 1024, (150 * 1024) + 12);
        Assert.True(bigBytes.AsSpan().IndexOf(PngPadding.ChunkType) > 0, "No lmKu chunk.");
        using var expected = SkiaSharp.SKBitmap.Decode(smallBytes);
        using var decoded = SkiaSharp.SKBitmap.Decode(bigBytes);
        Assert.NotNull(decoded);
        Assert.Equal((512, 512), (decoded.Width, decoded.Height));
        Assert.Equal(expected.Bytes, decoded.Bytes);
    }

    [Fact]
    public async Task PaintModeOnce_AnswersOnePicturePerSize_WhateverThePrompt()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:PaintMode"] = "once" });

        using var first = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);
        using var other = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token,
            """{"inputs":"A watercolor fox","parameters":{"width":512,"height":512,"seed":7}}"""), Ct);
        using var wider = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token,
            """{"inputs":"A watercolor fox","parameters":{"width":768,"height":512,"seed":7}}"""), Ct);

        var bytes = await first.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(bytes, await other.Content.ReadAsByteArrayAsync(Ct));
        using var decoded = SkiaSharp.SKBitmap.Decode(await wider.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal((768, 512), (decoded.Width, decoded.Height));
    }

    [Fact]
    public async Task ManyConcurrentRequests_PaintingEveryImage_AllGetValidPngs()
    {
        // Concurrent SkiaSharp painting has crashed the emulator; painting is serialized now.
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:PaintCacheMb"] = "0" });

        var answers = await Task.WhenAll(Enumerable.Range(0, 48).Select(async i =>
        {
            using var response = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token,
                $$$"""{"inputs":"A portrait number {{{i}}}","parameters":{"width":256,"height":256,"seed":{{{i}}}}}"""), Ct);
            return (response.StatusCode, Bytes: await response.Content.ReadAsByteArrayAsync(Ct));
        }));

        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            using var decoded = SkiaSharp.SKBitmap.Decode(a.Bytes);
            Assert.Equal(256, decoded.Width);
        });
    }

    [Fact]
    public async Task PutFaults_AppliesToTheNextRequest_AndDeleteGoesBackToConfiguration()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?> { ["Emulator:Tier"] = "free" });

        await emulator.SetFaultsAsync(new { Error503Rate = 1.0, Tier = "pro" });
        using var down = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxDev, EmulatorHost.Token), Ct);
        await emulator.ResetFaultsAsync();
        using var back = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxDev, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        // Configuration again: the free tier refuses FLUX.1-dev.
        Assert.Equal(HttpStatusCode.BadRequest, back.StatusCode);
        Assert.Equal("Model access denied. Upgrade to PRO.", (await back.Content.ReadFromJsonAsync<ErrorBody>(Ct))!.Error);
    }

    [Theory]
    [InlineData("""{"Error503Rate": 2}""", "Error503Rate")]
    [InlineData("""{"NoSuchKnob": 1}""", "NoSuchKnob")]
    [InlineData("""{"Error503Rate": "often"}""", "Emulator")]
    public async Task PutFaults_ThatAreNotValidOptions_Answer400_AndChangeNothing(string faults, string named)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var refused = await emulator.Http.PutAsync("faults", new StringContent(faults, Encoding.UTF8, "application/json"), Ct);
        using var image = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(named, await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
    }

    [Fact]
    public async Task StallBody_SendsTheHeadersAndHalfTheImage_ThenHangs_UntilTheClientGivesUp()
    {
        await using var emulator = await EmulatorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Emulator:StallBodyRate"] = "1",
            ["Emulator:StallBodyDuration"] = "00:10:00",
        });

        var response = await emulator.Http.SendAsync(JsClientRequest(EmulatorOptions.FluxSchnell, EmulatorHost.Token), HttpCompletionOption.ResponseHeadersRead, Ct);
        var length = response.Content.Headers.ContentLength!.Value;
        var body = await response.Content.ReadAsStreamAsync(Ct);
        var received = 0;
        var buffer = new byte[length];
        while (received < length / 2)
        {
            received += await body.ReadAsync(buffer.AsMemory(received), Ct);
        }

        var stalling = await emulator.StatsWhenAsync(s => s.Stalling == 1);
        response.Dispose();
        var after = await emulator.StatsWhenAsync(s => s.Count(EmulatorOptions.FluxSchnell, 499) == 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(length / 2, received);
        Assert.Equal("image/png", Worker.Flux.ImageSniffer.ContentTypeOf(buffer));
        Assert.Equal(1, stalling.Stalling);
        // The client gave up: recorded as 499, and the answer no longer holds anything open.
        Assert.Equal(1, after.Count(EmulatorOptions.FluxSchnell, 499));
        Assert.Equal(0, after.Stalling);
    }

    private static HttpRequestMessage JsClientRequest(string model, string? token, string body = JsClientBody)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "models/" + model)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        request.Headers.Accept.ParseAdd("*/*");
        return request;
    }

#pragma warning disable IDE1006 // The wire name.
    private sealed record ErrorBody(string Error, double? Estimated_time);
#pragma warning restore IDE1006
}
