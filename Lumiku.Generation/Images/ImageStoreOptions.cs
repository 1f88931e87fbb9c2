using System.ComponentModel.DataAnnotations;

namespace Lumiku.Generation.Images;

/// <summary>Section <c>Images</c>: where the file image store keeps avatars.</summary>
public sealed class ImageStoreOptions
{
    public const string SectionName = "Images";

    /// <summary>A folder shared by api and worker; the AppHost passes the same path to both.</summary>
    [Required]
    public string Path { get; set; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lumiku", "images");
}
