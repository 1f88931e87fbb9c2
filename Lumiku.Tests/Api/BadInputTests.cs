using System.Net;
using System.Text;
using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Whatever a client sends, the answer is a 4xx problem document, never a 5xx.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class BadInputTests(LumikuApp app)
{
    private const string Gen = "/v1/generations";
    private const string Valid = "A portrait of a friendly lighthouse keeper";

    /// <param name="Field">The field the 400 must name, when it names one.</param>
    public sealed record Case(string Method, string Path, string? Body, HttpStatusCode Expected, string? Field = null, string ContentType = "application/json", bool Admin = false, string? IdempotencyKey = null);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // POST /v1/generations: the prompt
        ["prompt missing"] = new("POST", Gen, "{}", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt too short"] = new("POST", Gen, """{"prompt":"tiny"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt only whitespace"] = new("POST", Gen, """{"prompt":"   \t\n   "}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt short after collapsing spaces"] = new("POST", Gen, """{"prompt":"a      b      c"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt 2001 characters"] = new("POST", Gen, $$"""{"prompt":"{{new string('a', 2001)}}"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt 20000 characters"] = new("POST", Gen, $$"""{"prompt":"{{new string('x', 20000)}}"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt with a bell character"] = new("POST", Gen, """{"prompt":"A portrait \u0007 of a bell ringer"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt with a NUL character"] = new("POST", Gen, """{"prompt":"A portrait of\u0000 a null person"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt with an escape sequence"] = new("POST", Gen, """{"prompt":"A portrait \u001b[31m in red terminal"}""", HttpStatusCode.BadRequest, "Prompt"),
        ["prompt a number"] = new("POST", Gen, """{"prompt":12345678901}""", HttpStatusCode.BadRequest),
        ["prompt an array"] = new("POST", Gen, """{"prompt":["A portrait of", "a list"]}""", HttpStatusCode.BadRequest),
        ["prompt an object"] = new("POST", Gen, """{"prompt":{"text":"A portrait of an object"}}""", HttpStatusCode.BadRequest),
        ["prompt too long with a preset"] = new("POST", Gen, $$"""{"prompt":"{{new string('b', 1990)}}","presetId":"professional"}""", HttpStatusCode.BadRequest, "Prompt"),
        // sizes
        ["width 255"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":255}""", HttpStatusCode.BadRequest, "Width"),
        ["width 1456"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":1456}""", HttpStatusCode.BadRequest, "Width"),
        ["width not a multiple of 16"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":1000}""", HttpStatusCode.BadRequest, "Width"),
        ["width negative"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":-512}""", HttpStatusCode.BadRequest, "Width"),
        ["width a string"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":"large"}""", HttpStatusCode.BadRequest),
        ["width a fraction"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":512.5}""", HttpStatusCode.BadRequest),
        ["width beyond int"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","width":99999999999999}""", HttpStatusCode.BadRequest),
        ["height zero"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","height":0}""", HttpStatusCode.BadRequest, "Height"),
        ["height 100000"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","height":100000}""", HttpStatusCode.BadRequest, "Height"),
        // seed and model
        ["seed negative"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","seed":-1}""", HttpStatusCode.BadRequest, "Seed"),
        ["seed 2^32"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","seed":4294967296}""", HttpStatusCode.BadRequest, "Seed"),
        ["seed a string"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","seed":"lucky"}""", HttpStatusCode.BadRequest),
        ["seed beyond long"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","seed":1e30}""", HttpStatusCode.BadRequest),
        ["model unknown"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","model":"flux-pro"}""", HttpStatusCode.BadRequest, "Model"),
        ["model a Hugging Face id we do not serve"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","model":"stabilityai/stable-diffusion-xl"}""", HttpStatusCode.BadRequest, "Model"),
        ["model a number"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","model":1}""", HttpStatusCode.BadRequest),
        // the other fields
        ["negative prompt 501 characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","negativePrompt":"{{new string('n', 501)}}"}""", HttpStatusCode.BadRequest, "NegativePrompt"),
        ["negative prompt with control characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","negativePrompt":"blur\u0002ry"}""", HttpStatusCode.BadRequest, "NegativePrompt"),
        ["preset unknown"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","presetId":"anime"}""", HttpStatusCode.BadRequest, "PresetId"),
        ["preset id 65 characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","presetId":"{{new string('p', 65)}}"}""", HttpStatusCode.BadRequest, "PresetId"),
        ["name 101 characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","name":"{{new string('m', 101)}}"}""", HttpStatusCode.BadRequest, "Name"),
        ["name with control characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}","name":"my\u0008avatar"}""", HttpStatusCode.BadRequest, "Name"),
        // the body itself
        ["malformed JSON"] = new("POST", Gen, """{"prompt": "A portrait of""", HttpStatusCode.BadRequest),
        ["JSON with trailing garbage"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}"} trailing""", HttpStatusCode.BadRequest),
        ["JSON array body"] = new("POST", Gen, """["A portrait of a list"]""", HttpStatusCode.BadRequest),
        ["JSON string body"] = new("POST", Gen, "\"A portrait of a string\"", HttpStatusCode.BadRequest),
        ["JSON null body"] = new("POST", Gen, "null", HttpStatusCode.BadRequest),
        ["empty body"] = new("POST", Gen, "", HttpStatusCode.BadRequest),
        ["JSON nested 200 deep"] = new("POST", Gen, string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200), HttpStatusCode.BadRequest),
        ["not JSON but text/plain"] = new("POST", Gen, Valid, HttpStatusCode.UnsupportedMediaType, ContentType: "text/plain"),
        ["body over 64 KB"] = new("POST", Gen, $$"""{"prompt":"{{new string('z', 70_000)}}"}""", HttpStatusCode.RequestEntityTooLarge),
        ["idempotency key with spaces"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}"}""", HttpStatusCode.BadRequest, IdempotencyKey: "not a valid key"),
        ["idempotency key 101 characters"] = new("POST", Gen, $$"""{"prompt":"{{Valid}}"}""", HttpStatusCode.BadRequest, IdempotencyKey: new string('k', 101)),
        // lists and ids
        ["list limit zero"] = new("GET", Gen + "?limit=0", null, HttpStatusCode.BadRequest, "limit"),
        ["list limit 101"] = new("GET", Gen + "?limit=101", null, HttpStatusCode.BadRequest, "limit"),
        ["list limit not a number"] = new("GET", Gen + "?limit=twenty", null, HttpStatusCode.BadRequest),
        ["list limit beyond int"] = new("GET", Gen + "?limit=99999999999", null, HttpStatusCode.BadRequest),
        ["list unknown status"] = new("GET", Gen + "?status=done", null, HttpStatusCode.BadRequest, "status"),
        ["list garbage cursor"] = new("GET", Gen + "?cursor=zzz", null, HttpStatusCode.BadRequest, "cursor"),
        ["list cursor of punctuation"] = new("GET", Gen + "?cursor=%21%40%23%24", null, HttpStatusCode.BadRequest, "cursor"),
        ["list cursor of 300 characters"] = new("GET", Gen + "?cursor=" + new string('Q', 300), null, HttpStatusCode.BadRequest, "cursor"),
        ["avatars negative limit"] = new("GET", "/v1/avatars?limit=-5", null, HttpStatusCode.BadRequest, "limit"),
        ["avatars forged cursor"] = new("GET", "/v1/avatars?cursor=" + Convert.ToBase64String(Encoding.UTF8.GetBytes("12:../../etc")).TrimEnd('='), null, HttpStatusCode.BadRequest, "cursor"),
        ["generation id with path traversal"] = new("GET", Gen + "/..%2F..%2Fetc%2Fpasswd", null, HttpStatusCode.NotFound),
        ["generation id of 300 characters"] = new("GET", Gen + "/" + new string('a', 300), null, HttpStatusCode.NotFound),
        ["image of an id with a dot"] = new("GET", "/v1/avatars/abc.png/image", null, HttpStatusCode.NotFound),
        ["cancel of an unknown id"] = new("POST", Gen + "/ffffffffffffffffffffffffffffffff/cancel", null, HttpStatusCode.NotFound),
        ["events of an unknown id"] = new("GET", Gen + "/ffffffffffffffffffffffffffffffff/events", null, HttpStatusCode.NotFound),
        // avatars
        ["rename with a 101-character name"] = new("PATCH", "/v1/avatars/ffffffffffffffffffffffffffffffff", $$"""{"name":"{{new string('r', 101)}}"}""", HttpStatusCode.BadRequest, "Name"),
        ["rename with a number"] = new("PATCH", "/v1/avatars/ffffffffffffffffffffffffffffffff", """{"name":7}""", HttpStatusCode.BadRequest),
        ["rename with a newline"] = new("PATCH", "/v1/avatars/ffffffffffffffffffffffffffffffff", """{"name":"two\nlines"}""", HttpStatusCode.BadRequest, "Name"),
        ["delete of an unknown avatar"] = new("DELETE", "/v1/avatars/ffffffffffffffffffffffffffffffff", null, HttpStatusCode.NotFound),
        // admin grants
        ["grant of zero"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":0}""", HttpStatusCode.BadRequest, "Amount", Admin: true),
        ["grant negative"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":-50}""", HttpStatusCode.BadRequest, "Amount", Admin: true),
        ["grant over 10^12"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":1000000000001}""", HttpStatusCode.BadRequest, "Amount", Admin: true),
        ["grant beyond 64 bits"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":99999999999999999999}""", HttpStatusCode.BadRequest, Admin: true),
        ["grant with an Idempotency-Key with spaces"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":5}""", HttpStatusCode.BadRequest, Admin: true, IdempotencyKey: "not a valid key"),
        ["grant amount a string"] = new("POST", "/v1/admin/credits", """{"userId":"alice","amount":"lots"}""", HttpStatusCode.BadRequest, Admin: true),
        ["grant without a user"] = new("POST", "/v1/admin/credits", """{"amount":10}""", HttpStatusCode.BadRequest, "UserId", Admin: true),
        ["grant to a user id with spaces"] = new("POST", "/v1/admin/credits", """{"userId":"alice smith","amount":10}""", HttpStatusCode.BadRequest, "UserId", Admin: true),
        ["grant with malformed JSON"] = new("POST", "/v1/admin/credits", """{"userId":""", HttpStatusCode.BadRequest, Admin: true),
        // dev tokens
        ["dev token without a user"] = new("POST", "/dev/token", "{}", HttpStatusCode.BadRequest),
        ["dev token with malformed JSON"] = new("POST", "/dev/token", "{user:alice}", HttpStatusCode.BadRequest),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void ThereAreAtLeastFortyCases() => Assert.True(Cases.Count >= 40, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task BadInput_IsA4xxProblem_NeverA5xx(string name)
    {
        var c = Cases[name];
        // A fresh user per case, so the submission rate limit never answers for the validation.
        using var client = c.Path.StartsWith("/dev/", StringComparison.Ordinal)
            ? app.App.CreateHttpClient("api")
            : await app.CreateApiClientAsync(LumikuAppFixture.NewUser("bad"), c.Admin);
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.Body is not null)
        {
            request.Content = new StringContent(c.Body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(c.ContentType);
        }

        if (c.IdempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", c.IdempotencyKey);
        }

        using var response = await client.SendAsync(request);
        var problem = await response.AssertProblemAsync(c.Expected);
        if (c.Field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors), problem.GetRawText());
            Assert.True(errors.TryGetProperty(c.Field, out _), $"errors should name {c.Field}: {errors.GetRawText()}");
        }
    }
}
