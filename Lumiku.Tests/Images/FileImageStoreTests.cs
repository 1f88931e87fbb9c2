using Lumiku.Generation.Images;
using Microsoft.Extensions.Options;

namespace Lumiku.Tests.Images;

public sealed class FileImageStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lumiku-image-store-" + Guid.NewGuid().ToString("N"));

    // Found by the load generator: the first writes into a new fan-out folder race to create it. A
    // writer whose open failed before another created the folder got FileNotFoundException (not
    // DirectoryNotFoundException), and its job waited a whole visibility timeout for redelivery.
    [Fact]
    public async Task ConcurrentFirstWritesIntoNewFanOutFolders_AllLand()
    {
        var image = new byte[2048];
        Random.Shared.NextBytes(image);
        for (var round = 0; round < 40; round++)
        {
            var store = new FileImageStore(Options.Create(new ImageStoreOptions { Path = Path.Combine(_root, round.ToString("D2")) }));
            // 32 ids per fan-out folder ("…ab"), four folders, all written at once into a store with none.
            var ids = Enumerable.Range(0, 128).Select(i => $"{round:D4}{i:D26}{"abcd"[i % 4]}x").ToArray();

            await Task.WhenAll(ids.Select(id => Task.Run(() => store.SaveAsync(id, image, "image/png", TestContext.Current.CancellationToken))));

            foreach (var id in ids)
            {
                var stored = await store.OpenAsync(id, TestContext.Current.CancellationToken);
                Assert.NotNull(stored);
                await using (stored)
                {
                    Assert.Equal(image.Length, stored.Length);
                }
            }
        }
    }

    [Fact]
    public async Task Save_ThenOpen_ReturnsTheBytesAndType_DeleteRemovesIt()
    {
        var store = new FileImageStore(Options.Create(new ImageStoreOptions { Path = _root }));
        byte[] image = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3];

        await store.SaveAsync("gen0001", image, "image/png", TestContext.Current.CancellationToken);
        var stored = await store.OpenAsync("gen0001", TestContext.Current.CancellationToken);

        Assert.NotNull(stored);
        Assert.Equal("image/png", stored.ContentType);
        await using (stored)
        {
            using var copy = new MemoryStream();
            await stored.Content.CopyToAsync(copy, TestContext.Current.CancellationToken);
            Assert.Equal(image, copy.ToArray());
        }

        await store.DeleteAsync("gen0001", TestContext.Current.CancellationToken);
        Assert.Null(await store.OpenAsync("gen0001", TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ALaterWriteForTheSameId_NeverReplacesTheStoredImage_WhateverItsFormat()
    {
        var store = new FileImageStore(Options.Create(new ImageStoreOptions { Path = _root }));
        byte[] first = [0x89, 0x50, 0x4E, 0x47, 1];

        await store.SaveAsync("gen0001", first, "image/png", TestContext.Current.CancellationToken);
        await store.SaveAsync("gen0001", new byte[] { 0x89, 0x50, 0x4E, 0x47, 2 }, "image/png", TestContext.Current.CancellationToken);
        await store.SaveAsync("gen0001", new byte[] { 0xFF, 0xD8, 0xFF, 3 }, "image/jpeg", TestContext.Current.CancellationToken);

        var stored = await store.OpenAsync("gen0001", TestContext.Current.CancellationToken);
        Assert.NotNull(stored);
        await using (stored)
        {
            Assert.Equal("image/png", stored.ContentType);
            using var copy = new MemoryStream();
            await stored.Content.CopyToAsync(copy, TestContext.Current.CancellationToken);
            Assert.Equal(first, copy.ToArray());
        }

        Assert.Equal(["gen0001.png"], Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task List_ShowsEveryStoredImageWithItsLastModified_NotATemporaryWriteInProgress()
    {
        var store = new FileImageStore(Options.Create(new ImageStoreOptions { Path = _root }));
        Assert.Empty(await store.ListAsync().ToListAsync());
        await store.SaveAsync("gen0001", new byte[] { 1, 2, 3 }, "image/png");
        await store.SaveAsync("gen0002", new byte[] { 4, 5, 6 }, "image/jpeg");
        // A write in progress (or one a crash cut off) is not an image yet.
        Directory.CreateDirectory(Path.Combine(_root, "03"));
        await File.WriteAllBytesAsync(Path.Combine(_root, "03", "gen0003.png." + Guid.NewGuid().ToString("N") + ".tmp"), [7]);

        var listed = await store.ListAsync().ToListAsync();

        Assert.Equal(["gen0001", "gen0002"], listed.Select(i => i.GenerationId).Order());
        Assert.All(listed, i => Assert.InRange(i.LastModified, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task AWriteThatFails_LeavesNoImageAndNoTemporaryFile()
    {
        var store = new FileImageStore(Options.Create(new ImageStoreOptions { Path = _root }));
        await store.SaveAsync("gen0001", new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "image/png", TestContext.Current.CancellationToken);

        // The temporary file exists by the time the write is cancelled (as a full disk would fail it).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.SaveAsync("gen0002", new byte[4096], "image/png", new CancellationToken(canceled: true)));

        Assert.Null(await store.OpenAsync("gen0002", TestContext.Current.CancellationToken));
        var files = Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName);
        Assert.Equal(["gen0001.png"], files);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
