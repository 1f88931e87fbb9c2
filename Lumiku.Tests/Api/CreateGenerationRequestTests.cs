using Lumiku.Api.Apis;

namespace Lumiku.Tests.Api;

/// <summary>The submit body's own validation (the endpoint runs it instead of the generic filter).</summary>
public sealed class CreateGenerationRequestTests
{
    [Fact]
    public void EveryBrokenRuleIsReported_ByPropertyName()
    {
        var request = new CreateGenerationRequest
        {
            Prompt = "short",
            Width = 1000,
            Height = 2048,
            Seed = -1,
            Model = "flux-pro",
            PresetId = new string('p', 65),
            Name = "two\u0008lines",
        };

        var errors = request.Validate();

        Assert.NotNull(errors);
        Assert.Equal(["Height", "Model", "Name", "PresetId", "Prompt", "Seed", "Width"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("it has 5", Assert.Single(errors["Prompt"]), StringComparison.Ordinal);
        Assert.Contains("at most 64", Assert.Single(errors["PresetId"]), StringComparison.Ordinal);
    }

    [Fact]
    public void AValidRequest_HasNoErrors_AndQueuesTheNormalizedPrompts()
    {
        var request = new CreateGenerationRequest
        {
            Prompt = "  A portrait   of a\tfox in a  suit ",
            NegativePrompt = " blurry,\n  low quality ",
            Width = 512,
            Name = " Fox ",
        };

        Assert.Null(request.Validate());
        var generation = request.ToNewGeneration("alice");

        Assert.Equal("A portrait of a fox in a suit", generation.Prompt);
        Assert.Equal("blurry, low quality", generation.NegativePrompt);
        Assert.Equal(512, generation.Width);
        Assert.Equal(CreateGenerationRequest.DefaultSide, generation.Height);
        Assert.Equal("Fox", generation.Name);
    }
}
