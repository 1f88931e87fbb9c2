using System.ComponentModel.DataAnnotations;

namespace Lumiku.Generation.Images;

/// <summary>Section <c>Storage</c>: which image store api and worker use.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>The name of the blob connection string (<c>ConnectionStrings:images</c>), as the AppHost references it.</summary>
    public const string ConnectionName = "images";

    /// <summary><c>files</c> (a folder api and worker share, <see cref="ImageStoreOptions"/>) or <c>blob</c> (Azure Blob Storage).</summary>
    [Required]
    [RegularExpression("^(files|blob)$", ErrorMessage = "Storage:Mode must be 'files' or 'blob'.")]
    public string Mode { get; set; } = "files";

    /// <summary>The blob container holding the images; created when missing.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", ErrorMessage = "Storage:Container must be a valid blob container name.")]
    public string Container { get; set; } = "avatars";

    public bool UsesBlob => string.Equals(Mode, "blob", StringComparison.Ordinal);
}
