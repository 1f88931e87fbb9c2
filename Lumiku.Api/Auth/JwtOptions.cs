namespace Lumiku.Api.Auth;

/// <summary>Section <c>Jwt</c>: how the api signs dev tokens and validates bearer tokens.</summary>
public sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    public string Issuer { get; set; } = "lumiku";

    public string Audience { get; set; } = "lumiku-api";

    /// <summary>HMAC-SHA256 key, at least 32 bytes (an AppHost secret parameter). In Development a
    /// random key is made at start when none is configured; elsewhere it is required.</summary>
    public string? SigningKey { get; set; }

    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(12);
}
