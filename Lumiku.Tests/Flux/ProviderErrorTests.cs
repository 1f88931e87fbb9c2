using System.Text;
using Lumiku.Worker.Flux;

namespace Lumiku.Tests.Flux;

/// <summary>Whatever shape the provider's error takes, the log and the failed generation quote it.</summary>
public sealed class ProviderErrorTests
{
    [Theory]
    [InlineData("""{"error":"Model access denied. Upgrade to PRO."}""", "Model access denied. Upgrade to PRO.")]
    [InlineData("""{"error":["width must be a multiple of 16","seed must be positive"]}""", "width must be a multiple of 16; seed must be positive")]
    [InlineData("""{"error":"invalid_token","error_description":"The token has expired"}""", "invalid_token; The token has expired")]
    [InlineData("upstream   connect error\n or disconnect", "upstream connect error or disconnect")]
    [InlineData("", "(empty body)")]
    public void ErrorBody_IsParsedIntoOneReadableMessage(string body, string expected)
    {
        var (message, _) = ProviderError.Parse(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, message);
    }

    [Fact]
    public void LoadingBody_CarriesItsEstimatedTime()
    {
        var (_, estimated) = ProviderError.Parse("""{"error":"Model black-forest-labs/FLUX.1-dev is currently loading","estimated_time":20.5}"""u8);

        Assert.Equal(20.5, estimated);
    }
}
