using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

[Collection(AzuriteCollection.Name)]
public sealed class BlockBlobSinkTests(AzuriteFixture azurite)
{
    private readonly BlobContainerClient _container = new(azurite.ConnectionString, $"sink-{Guid.NewGuid():N}"[..24]);

    /// <summary>Blocks staged three at a time commit in the order written, whatever order their uploads finish in.</summary>
    [Fact]
    public async Task Complete_ManyBlocksInFlight_BlobHoldsTheBytesInOrder()
    {
        await _container.CreateAsync();
        var bytes = new byte[(5 * 1024 * 1024) + 123];
        new Random(3).NextBytes(bytes);
        var blob = _container.GetBlockBlobClient("out.csv");

        await using (var sink = new BlockBlobSink(blob, "text/csv", blockBytes: 1 << 20, inFlight: 3))
        {
            for (var i = 0; i < bytes.Length; i += 70_001)
            {
                await sink.WriteAsync(bytes.AsMemory(i, Math.Min(70_001, bytes.Length - i)));
            }

            await sink.CompleteAsync(CancellationToken.None);
        }

        var stored = await blob.DownloadContentAsync();
        Assert.Equal(bytes, stored.Value.Content.ToArray());
        Assert.Equal("text/csv", stored.Value.Details.ContentType);
        Assert.Equal(6, (await blob.GetBlockListAsync()).Value.CommittedBlocks.Count());
    }

    /// <summary>A writer that stops before completing leaves the blob as it was: no partial output.</summary>
    [Fact]
    public async Task Dispose_WithoutComplete_BlobUnchanged()
    {
        await _container.CreateAsync();
        var blob = _container.GetBlockBlobClient("out.csv");
        await blob.UploadAsync(new MemoryStream("old"u8.ToArray()));

        await using (var sink = new BlockBlobSink(blob, "text/csv", blockBytes: 1 << 20))
        {
            await sink.WriteAsync(new byte[3 << 20]);
        }

        Assert.Equal("old", (await blob.DownloadContentAsync()).Value.Content.ToString());
    }
}
