using System.Security.Claims;
using Lumiku.Api.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Lumiku.Api.Apis;

/// <summary><c>POST /dev/token</c>: a signed token for any user, so the page and curl work out of the box. Development only.</summary>
public static class DevTokenApi
{
    public static IEndpointRouteBuilder MapDevTokenApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/dev/token", IssueToken)
            .WithTags("Development")
            .WithName("IssueDevToken")
            .WithSummary("Issue a token for a user (Development only)")
            .AllowAnonymous();
        return app;
    }

    public static Results<Ok<DevTokenResponse>, ProblemHttpResult> IssueToken(
        DevTokenRequest request,
        IOptions<JwtOptions> options,
        SigningKeyProvider keys,
        TimeProvider time)
    {
        var user = request.User?.Trim();
        if (string.IsNullOrEmpty(user) || user.Length > 64 || !user.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@'))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid user",
                detail: "'user' must be 1 to 64 characters of letters, digits, '-', '_', '.' or '@'.");
        }

        var now = time.GetUtcNow();
        var claims = new Dictionary<string, object> { [AuthExtensions.SubjectClaim] = user };
        if (request.Admin)
        {
            claims[AuthExtensions.RoleClaim] = "admin";
        }

        var expires = now + options.Value.DevTokenLifetime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
        });
        return TypedResults.Ok(new DevTokenResponse(token, expires));
    }
}

/// <summary>Who the dev token is for.</summary>
public sealed record DevTokenRequest(string? User, bool Admin = false);

public sealed record DevTokenResponse(string Token, DateTimeOffset ExpiresAt);
