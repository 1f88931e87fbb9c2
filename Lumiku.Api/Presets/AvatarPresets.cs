namespace Lumiku.Api.Presets;

/// <summary>A built-in style: a prompt template around the user's subject, with suggested settings.</summary>
/// <param name="Template">The full prompt, with <c>{subject}</c> where the user's words go.</param>
public sealed record AvatarPreset(
    string Id,
    string Name,
    string Description,
    string Template,
    string? NegativePrompt,
    int Width,
    int Height)
{
    public const string SubjectPlaceholder = "{subject}";

    /// <summary>The LoRA adapter (Hugging Face repo) the preset needs; only providers that serve adapters can apply it.</summary>
    public string? Lora { get; init; }

    /// <summary>False when no configured provider can apply the preset (<see cref="UnavailableReason"/> says why); a submit with it is a 400.</summary>
    public bool Available { get; init; } = true;

    public string? UnavailableReason { get; init; }

    /// <summary>The prompt this preset makes from the user's subject.</summary>
    public string Expand(string subject) => Template.Replace(SubjectPlaceholder, subject, StringComparison.Ordinal);

    /// <summary>
    /// The user's own words inside a prompt this preset expanded (records keep only the expanded
    /// prompt); the prompt itself when it does not fit the template.
    /// </summary>
    public string SubjectOf(string prompt)
    {
        var at = Template.IndexOf(SubjectPlaceholder, StringComparison.Ordinal);
        var prefix = Template[..at];
        var suffix = Template[(at + SubjectPlaceholder.Length)..];
        return prompt.Length >= prefix.Length + suffix.Length
            && prompt.StartsWith(prefix, StringComparison.Ordinal)
            && prompt.EndsWith(suffix, StringComparison.Ordinal)
            ? prompt[prefix.Length..^suffix.Length]
            : prompt;
    }

    /// <summary>How many characters the template adds around the subject.</summary>
    public int Overhead => Template.Length - SubjectPlaceholder.Length;
}

/// <summary>The built-in presets (the original product's Avatar Creator styles).</summary>
public static class AvatarPresets
{
    public static IReadOnlyList<AvatarPreset> All { get; } =
    [
        new("professional", "Professional", "A clean corporate headshot for LinkedIn or a company page.",
            "Professional corporate headshot of {subject}, business attire, soft studio lighting, neutral grey background, sharp focus, confident friendly expression",
            "blurry, distorted face, extra fingers, text, watermark", 1024, 1024),
        new("casual", "Casual", "A relaxed, natural-light portrait for social profiles.",
            "Casual portrait of {subject}, natural daylight, relaxed smile, soft bokeh background of a city park, candid photo style",
            "blurry, distorted face, text, watermark", 1024, 1024),
        new("creative", "Creative", "A bold, colourful illustrated avatar.",
            "Creative digital illustration of {subject}, vibrant colours, bold graphic shapes, dramatic rim lighting, stylised avatar art",
            "photorealistic, text, watermark", 1024, 1024),
        new("traditional", "Traditional", "A formal portrait in traditional dress with warm, classic lighting.",
            "Formal portrait of {subject} wearing elegant traditional attire with batik patterns, warm classic lighting, rich fabric detail, dignified pose",
            "blurry, distorted face, text, watermark", 832, 1024),
        new("realism", "Realism", "A photorealistic portrait: FLUX.1-dev with the XLabs-AI/flux-RealismLora adapter at scale 0.9, from fal-ai or replicate. FLUX.1-dev and the adapter are under the FLUX.1 [dev] non-commercial licence.",
            "Photorealistic portrait of {subject}, natural skin texture, soft window light, shallow depth of field, 85mm photo",
            "blurry, distorted face, text, watermark", 1024, 1024) { Lora = Generation.FluxModels.RealismLora },
    ];

    /// <summary>The preset with this id (case-insensitive), or null.</summary>
    public static AvatarPreset? Find(string? id) =>
        id is null ? null : All.FirstOrDefault(p => string.Equals(p.Id, id.Trim(), StringComparison.OrdinalIgnoreCase));
}
