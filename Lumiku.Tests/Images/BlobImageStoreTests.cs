using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Lumiku.Generation.Images;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Lumiku.Tests.Images;

/// <summary>The blob image store against a real Azurite; each test has a container of its own.</summary>
public sealed class BlobImageStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly string _container = "avatars-" + Guid.NewGuid().ToString("N")[..12];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Save_ThenOpen_StreamsTheBytesWithTypeAndLength_DeleteRemovesIt()
    {
        // The container does not exist yet: the first write creates it.
        var store = CreateStore();
        var image = RandomImage(100_000);
        Assert.Null(await store.OpenAsync("gen0001", Ct));

        await store.SaveAsync("gen0001", image, "image/webp", Ct);

        await AssertStoredAsync(store, "gen0001", image, "image/webp");
        await store.DeleteAsync("gen0001", Ct);
        Assert.Null(await store.OpenAsync("gen0001", Ct));
        await store.DeleteAsync("gen0001", Ct);
        Assert.False(await BlobsOf(azurite.Server.ConnectionString).GetBlobsAsync(cancellationToken: Ct).GetAsyncEnumerator(Ct).MoveNextAsync());
    }

    [Fact]
    public async Task ALaterWriteForTheSameId_NeverReplacesTheStoredImage()
    {
        var store = CreateStore();
        var first = RandomImage(4096);

        await store.SaveAsync("gen0001", first, "image/png", Ct);
        await store.SaveAsync("gen0001", RandomImage(5000), "image/png", Ct);
        await store.SaveAsync("gen0001", RandomImage(3000), "image/jpeg", Ct);

        await AssertStoredAsync(store, "gen0001", first, "image/png");
    }

    [Fact]
    public async Task RacingWritersForTheSameId_AllSucceed_AndExactlyOneWholeImageIsStored()
    {
        var store = CreateStore();
        await store.SaveAsync("warmup01", RandomImage(10), "image/png", Ct);
        var images = Enumerable.Range(0, 8).Select(_ => RandomImage(200_000)).ToArray();

        await Task.WhenAll(images.Select(image => Task.Run(() => store.SaveAsync("gen0002", image, "image/png", Ct))));

        var stored = await store.OpenAsync("gen0002", Ct);
        Assert.NotNull(stored);
        await using (stored)
        {
            var bytes = await ReadAllAsync(stored);
            Assert.Contains(images, image => image.AsSpan().SequenceEqual(bytes));
        }
    }

    [Fact]
    public async Task AnUploadBrokenOffHalfway_LeavesNothingVisible_AndTheRetryStoresTheWholeImage()
    {
        var store = CreateStore();
        await store.SaveAsync("warmup01", RandomImage(10), "image/png", Ct);
        var image = RandomImage(300_000);

        // The connection breaks after half the body went out, as when the worker's host dies mid-upload.
        var broken = CreateStore(new BreakOffHalfway());
        await Assert.ThrowsAnyAsync<Exception>(() => broken.SaveAsync("gen0003", image, "image/png", Ct));
        Assert.Null(await store.OpenAsync("gen0003", Ct));

        // A cancelled save stores nothing either.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SaveAsync("gen0004", image, "image/png", new CancellationToken(canceled: true)));
        Assert.Null(await store.OpenAsync("gen0004", Ct));

        // Nothing half-written blocks the retry: had a part been committed, "first write wins" would keep it.
        await store.SaveAsync("gen0003", image, "image/png", Ct);
        await AssertStoredAsync(store, "gen0003", image, "image/png");
    }

    [Fact]
    public async Task List_ShowsEveryStoredImageWithItsLastModified_AndNothingBeforeTheFirstWrite()
    {
        var store = CreateStore();
        Assert.Empty(await store.ListAsync(Ct).ToListAsync(Ct));
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        await store.SaveAsync("gen0001", RandomImage(1000), "image/png", Ct);
        await store.SaveAsync("gen0002", RandomImage(1000), "image/webp", Ct);

        var listed = await store.ListAsync(Ct).ToListAsync(Ct);
        Assert.Equal(["gen0001", "gen0002"], listed.Select(i => i.GenerationId).Order());
        Assert.All(listed, i => Assert.InRange(i.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    private BlobImageStore CreateStore(HttpPipelinePolicy? policy = null)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 0;
        if (policy is not null)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        return new BlobImageStore(new BlobServiceClient(azurite.Server.ConnectionString, options), Options.Create(new StorageOptions { Mode = "blob", Container = _container }));
    }

    private BlobContainerClient BlobsOf(string connectionString) => new BlobServiceClient(connectionString).GetBlobContainerClient(_container);

    private static async Task AssertStoredAsync(IImageStore store, string id, byte[] expected, string contentType)
    {
        var stored = await store.OpenAsync(id, Ct);
        Assert.NotNull(stored);
        await using (stored)
        {
            Assert.Equal(contentType, stored.ContentType);
            Assert.Equal(expected.Length, stored.Length);
            Assert.Equal(expected, await ReadAllAsync(stored));
        }
    }

    private static async Task<byte[]> ReadAllAsync(StoredImage stored)
    {
        using var copy = new MemoryStream();
        await stored.Content.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    private static byte[] RandomImage(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Sends the first half of a blob upload's body, then fails the connection.</summary>
    private sealed class BreakOffHalfway : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Method == RequestMethod.Put && message.Request.Content is { } content && !message.Request.Uri.Query.Contains("restype=container", StringComparison.Ordinal))
            {
                message.Request.Content = new HalfThenFail(content);
            }
        }
    }

    private sealed class HalfThenFail(RequestContent inner) : RequestContent
    {
        public override bool TryComputeLength(out long length) => inner.TryComputeLength(out length);

        public override async Task WriteToAsync(Stream stream, CancellationToken cancellation)
        {
            using var whole = new MemoryStream();
            await inner.WriteToAsync(whole, cancellation);
            await stream.WriteAsync(whole.GetBuffer().AsMemory(0, (int)whole.Length / 2), cancellation);
            await stream.FlushAsync(cancellation);
            throw new IOException("The connection broke off halfway through the upload.");
        }

        public override void WriteTo(Stream stream, CancellationToken cancellation) =>
            WriteToAsync(stream, cancellation).GetAwaiter().GetResult();

        public override void Dispose() => inner.Dispose();
    }
}
