#:package Microsoft.AspNetCore.Authentication.JwtBearer
// What the api's ValidatedTokenCache saves per request: full validation of one of our HS256 bearer
// tokens (JsonWebTokenHandler, the handler JwtBearer uses) against a dictionary lookup plus the deep
// copy the cache hands out. Run: dotnet run bench/micro/JwtValidation.cs (docs/performance.md).
using System.Diagnostics;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("an-in-process-test-signing-key-of-enough-length")) { KeyId = "lumiku" };
var handler = new JsonWebTokenHandler();
var token = handler.CreateToken(new SecurityTokenDescriptor { Issuer = "lumiku", Audience = "lumiku-api", Subject = new ClaimsIdentity([new Claim("sub", "u1")]), Expires = DateTime.UtcNow.AddHours(1), SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256) });
var tvp = new TokenValidationParameters { ValidIssuer = "lumiku", ValidAudience = "lumiku-api", IssuerSigningKey = key, NameClaimType = "sub", RoleClaimType = "role" };
for (int i = 0; i < 20000; i++) await handler.ValidateTokenAsync(token, tvp);
var cpu0 = Process.GetCurrentProcess().TotalProcessorTime; var sw = Stopwatch.StartNew();
const int N = 100000;
for (int i = 0; i < N; i++) { var r = await handler.ValidateTokenAsync(token, tvp); if (!r.IsValid) throw new(); }
Console.WriteLine($"validate: {sw.Elapsed.TotalMilliseconds * 1000 / N:F2} us wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds * 1000 / N:F2} us cpu");
var principal = new ClaimsPrincipal((await handler.ValidateTokenAsync(token, tvp)).ClaimsIdentity);
var dict = new System.Collections.Concurrent.ConcurrentDictionary<string, ClaimsPrincipal>(); dict[token] = principal;
sw.Restart();
for (int i = 0; i < N; i++) { dict.TryGetValue(token, out var p); var c = new ClaimsPrincipal(p!.Identities.Select(x => x.Clone())); }
Console.WriteLine($"lookup+copy: {sw.Elapsed.TotalMilliseconds * 1000 / N:F2} us");
