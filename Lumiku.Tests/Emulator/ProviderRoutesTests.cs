using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumiku.InferenceEmulator;

namespace Lumiku.Tests.Emulator;

/// <summary>The emulator's provider routes at the router's own paths, each with its own fields and knobs.</summary>
public sealed class ProviderRoutesTests
{
    private const string FalBody = """{"prompt":"a portrait","image_size":{"width":512,"height":512},"num_inference_steps":4,"guidance_scale":3.5,"seed":1}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ProviderKnob_SetWhileRunning_AppliesToThatProviderOnly()
    {
        await using var emulator = await EmulatorHost.StartAsync();
        await emulator.SetFaultsAsync(new Dictionary<string, object> { ["Providers:fal-ai:Tier"] = "no-credits" });

        using var fal = await emulator.Http.SendAsync(Post("fal-ai/fal-ai/flux/dev", FalBody), Ct);
        using var hf = await emulator.Http.SendAsync(Post("hf-inference/models/" + EmulatorOptions.FluxSchnell, """{"inputs":"a portrait","parameters":{"width":512,"height":512}}"""), Ct);

        Assert.Equal(HttpStatusCode.PaymentRequired, fal.StatusCode);
        Assert.Contains("exceeded your monthly included credits", await fal.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, hf.StatusCode);
        var stats = await emulator.StatsAsync();
        Assert.Equal(1, stats.Count("fal-ai", "fal-ai/flux/dev", 402));
        Assert.Equal(1, stats.Count("hf-inference", EmulatorOptions.FluxSchnell, 200));
    }

    [Fact]
    public async Task Fal_AnswersAnImageUrlTheEmulatorServes_WithoutAToken()
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var answer = await emulator.Http.SendAsync(Post("fal-ai/fal-ai/flux/schnell", FalBody), Ct);
        var url = (string)(await answer.Content.ReadFromJsonAsync<JsonNode>(Ct))!["images"]![0]!["url"]!;
        var image = await new HttpClient().GetByteArrayAsync(url, Ct);

        Assert.StartsWith(emulator.BaseUrl.ToString(), url, StringComparison.Ordinal);
        Assert.Equal("image/png", Worker.Flux.ImageSniffer.ContentTypeOf(image));
    }

    [Theory]
    [InlineData("fal-ai/fal-ai/flux/dev", """{"prompt":"a portrait","negative_prompt":"blurry"}""", "negative_prompt")]
    [InlineData("fal-ai/fal-ai/flux/dev", """{"prompt":"a portrait","loras":[{"path":"x","scale":1}]}""", "loras")]
    [InlineData("replicate/v1/models/black-forest-labs/flux-dev/predictions", """{"input":{"prompt":"a portrait","lora_weights":"x"}}""", "lora_weights")]
    [InlineData("together/v1/images/generations", """{"prompt":"a portrait","model":"black-forest-labs/FLUX.1-dev","num_inference_steps":4}""", "num_inference_steps")]
    public async Task AFieldTheProviderDoesNotTake_Answers400_NamingIt(string path, string body, string field)
    {
        await using var emulator = await EmulatorHost.StartAsync();

        using var response = await emulator.Http.SendAsync(Post(path, body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Unknown parameter(s): " + field, await response.Content.ReadAsStringAsync(Ct));
    }

    private static HttpRequestMessage Post(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorHost.Token);
        return request;
    }
}
