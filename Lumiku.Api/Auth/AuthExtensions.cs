using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Lumiku.Api.Auth;

/// <summary>JWT bearer auth: our own HMAC key, plus whatever <c>dotnet user-jwts</c> put in configuration.</summary>
public static class AuthExtensions
{
    public const string AdminPolicy = "admin";
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";

    public static IHostApplicationBuilder AddLumikuAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>()
            .BindConfiguration(JwtOptions.SectionName)
            .PostConfigure<IHostEnvironment>((o, env) =>
            {
                if (string.IsNullOrEmpty(o.SigningKey) && env.IsDevelopment())
                {
                    o.SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                }
            })
            .Validate(o => o.SigningKey is { Length: >= 32 }, "Jwt:SigningKey must be set (at least 32 characters) outside Development.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SigningKeyProvider>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ValidatedTokenCache>();

        // AddJwtBearer binds Authentication:Schemes:Bearer (what dotnet user-jwts writes).
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .PostConfigure<IOptions<JwtOptions>, SigningKeyProvider, ValidatedTokenCache>((bearer, jwt, keys, validated) =>
            {
                // Keep 'sub' and 'role' as they are on the wire.
                bearer.MapInboundClaims = false;
                bearer.Events ??= new JwtBearerEvents();
                var previous = bearer.Events.OnMessageReceived;
                bearer.Events.OnMessageReceived = async context =>
                {
                    await previous(context);
                    // EventSource cannot send headers: the SSE route alone (as SignalR does) takes ?access_token=.
                    if (context.Token is null
                        && IsEventStreamRequest(context.Request)
                        && context.Request.Query[AccessTokenParameter] is [{ Length: > 0 } token])
                    {
                        context.Token = token;
                    }

                    // A token that passed full validation before: its principal, without re-validating.
                    if (BearerToken(context) is { } raw)
                    {
                        if (validated.TryGet(raw, out var principal))
                        {
                            context.Principal = principal;
                            context.Success();
                        }
                        else
                        {
                            // For OnTokenValidated, which a cache hit never reaches.
                            context.HttpContext.Items[RawTokenItem] = raw;
                        }
                    }
                };
                var previousValidated = bearer.Events.OnTokenValidated;
                bearer.Events.OnTokenValidated = async context =>
                {
                    await previousValidated(context);
                    if (context.Result is null or { Succeeded: true }
                        && context.Principal is { } principal
                        && context.HttpContext.Items[RawTokenItem] is string raw)
                    {
                        validated.Add(raw, principal, context.SecurityToken.ValidTo);
                    }
                };
                var tvp = bearer.TokenValidationParameters;
                tvp.ValidIssuers = [.. tvp.ValidIssuers ?? [], .. tvp.ValidIssuer is null ? Array.Empty<string>() : [tvp.ValidIssuer], jwt.Value.Issuer];
                tvp.ValidAudiences = [.. tvp.ValidAudiences ?? [], .. tvp.ValidAudience is null ? Array.Empty<string>() : [tvp.ValidAudience], jwt.Value.Audience];
                tvp.IssuerSigningKeys = [.. tvp.IssuerSigningKeys ?? [], keys.Key];
                tvp.ValidateIssuer = true;
                tvp.ValidateAudience = true;
                tvp.ValidateLifetime = true;
                tvp.ValidateIssuerSigningKey = true;
                tvp.ClockSkew = TimeSpan.FromSeconds(30);
                tvp.NameClaimType = SubjectClaim;
                tvp.RoleClaimType = RoleClaim;
            });

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(null)
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole("admin"));
        return builder;
    }

    private static readonly object RawTokenItem = new();

    /// <summary>The token the bearer handler will validate: one set by an event, else the Authorization header's.</summary>
    private static string? BearerToken(MessageReceivedContext context)
    {
        if (context.Token is { Length: > 0 } token)
        {
            return token;
        }

        string? authorization = context.Request.Headers.Authorization;
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim() is { Length: > 0 } header ? header : null
            : null;
    }

    /// <summary>The query parameter that carries a token on the SSE route only.</summary>
    public const string AccessTokenParameter = "access_token";

    /// <summary><c>GET /v1/generations/{id}/events</c>: the only route that accepts <see cref="AccessTokenParameter"/>.</summary>
    public static bool IsEventStreamRequest(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && request.Path.StartsWithSegments("/v1/generations", out var rest)
        && rest.Value is { } tail
        && tail.EndsWith("/events", StringComparison.Ordinal)
        && tail.Count(c => c == '/') == 2;

    /// <summary>The caller's user id (the token's <c>sub</c>).</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(SubjectClaim) ?? throw new InvalidOperationException("An authenticated user without 'sub'.");
}

/// <summary>The symmetric key made once from <see cref="JwtOptions.SigningKey"/>.</summary>
public sealed class SigningKeyProvider(IOptions<JwtOptions> options)
{
    public SymmetricSecurityKey Key { get; } = new(Encoding.UTF8.GetBytes(options.Value.SigningKey!)) { KeyId = "lumiku" };
}
