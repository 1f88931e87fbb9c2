using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Lumiku.Generation.Images;

/// <summary>
/// Images as files under one folder, fanned out by the id's last two characters. A write goes to a
/// temporary file first and is moved into place without replacing, so a reader never sees half an
/// image and the first image stored for an id stays (see <see cref="IImageStore.SaveAsync"/>).
/// </summary>
public sealed class FileImageStore(IOptions<ImageStoreOptions> options) : IImageStore
{
    private readonly string _root = Path.GetFullPath(options.Value.Path);

    public async Task SaveAsync(string generationId, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(generationId, contentType);
        if (Formats.Any(f => File.Exists(PathOf(generationId, f.Extension, isExtension: true))))
        {
            return;
        }

        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        // A bare handle and one positional write: no FileStream buffer or strategy objects per image.
        try
        {
            using (var file = CreateNew(temp))
            {
                await RandomAccess.WriteAsync(file, bytes, 0, cancellationToken).ConfigureAwait(false);
            }

            // No replace: of two writers racing for the same id, the first one's image stays.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }
        catch
        {
            // A full disk or a cancelled write must not leave a half-written temporary behind.
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>The fan-out folder is created the first time a write misses it, not checked on every write.</summary>
    private static SafeFileHandle CreateNew(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // ENOENT on a create means the folder was missing. .NET reports it as FileNotFoundException
            // when another writer created the folder between the failed open and its check of the parent.
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
        }
    }

    public Task<StoredImage?> OpenAsync(string generationId, CancellationToken cancellationToken = default)
    {
        foreach (var (extension, contentType) in Formats)
        {
            var path = PathOf(generationId, extension, isExtension: true);
            try
            {
                var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                return Task.FromResult<StoredImage?>(new StoredImage(stream, contentType, stream.Length));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
            }
        }

        return Task.FromResult<StoredImage?>(null);
    }

    public Task DeleteAsync(string generationId, CancellationToken cancellationToken = default)
    {
        foreach (var (extension, _) in Formats)
        {
            try
            {
                File.Delete(PathOf(generationId, extension, isExtension: true));
            }
            catch (DirectoryNotFoundException)
            {
                // No folder, no file: an image already gone is deleted (a missing file never throws).
            }
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredImageInfo> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(_root).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Images only: a temporary of a write in progress (id.png.<guid>.tmp) has two dots.
            if (Formats.Any(f => f.Extension == file.Extension) && Path.GetFileNameWithoutExtension(file.Name) is { } id && !id.Contains('.', StringComparison.Ordinal))
            {
                yield return new StoredImageInfo(id, file.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static readonly (string Extension, string ContentType)[] Formats =
    [
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".webp", "image/webp"),
    ];

    private string PathOf(string generationId, string contentTypeOrExtension, bool isExtension = false)
    {
        // Ids are generated by us, but never let one escape the folder.
        if (generationId.Length < 2 || !generationId.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("Not a generation id.", nameof(generationId));
        }

        var extension = isExtension
            ? contentTypeOrExtension
            : Formats.FirstOrDefault(f => f.ContentType == contentTypeOrExtension).Extension ?? ".png";
        return Path.Combine(_root, generationId[^2..], generationId + extension);
    }
}
