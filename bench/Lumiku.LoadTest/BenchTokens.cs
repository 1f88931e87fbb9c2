using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>
/// HS256 bearer tokens the api accepts (issuer <c>lumiku</c>, audience <c>lumiku-api</c>,
/// <c>sub</c> = user id), signed with the key the bench gives the api as <c>Jwt__SigningKey</c>.
/// Made by hand so the load generator needs no token library and no dev endpoint.
/// </summary>
public static class BenchTokens
{
    public const string Issuer = "lumiku";
    public const string Audience = "lumiku-api";

    public static string Create(string signingKey, string userId, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = "lumiku" });
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["sub"] = userId,
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + (long)lifetime.TotalSeconds,
        });
        var signingInput = Base64Url(header) + "." + Base64Url(payload);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingKey), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
