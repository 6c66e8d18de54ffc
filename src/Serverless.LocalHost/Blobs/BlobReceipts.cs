using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Serverless.LocalHost.Hosting;

namespace Serverless.LocalHost.Blobs;

/// <summary>
/// Receipts of blob trigger work, one per (function, blob, ETag), so each version of a blob is processed once, across
/// restarts and hosts. Laid out as the Functions host lays them out: <c>azure-webjobs-hosts/blobreceipts/{hostId}/{functionId}/{etag}/{container}/{blob}</c>,
/// with the state in metadata: the attempts so far and whether the work is finished.
/// </summary>
internal sealed class BlobReceipts(HostStorage storage)
{
    private const string AttemptsKey = "Attempts";
    private const string CompletedKey = "Completed";
    private const string OutcomeKey = "Outcome";

    public Task<BlobClient> GetReceiptAsync(string functionId, string container, string blobName, ETag eTag) =>
        storage.GetBlobAsync($"blobreceipts/{{hostId}}/{functionId}/{eTag.ToString().Trim('"')}/{container}/{blobName}");

    public static async Task<ReceiptState> ReadAsync(BlobClient receipt, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await receipt.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            var metadata = properties.Metadata;
            return new ReceiptState(
                metadata.TryGetValue(AttemptsKey, out var attempts) ? int.Parse(attempts, CultureInfo.InvariantCulture) : 0,
                metadata.TryGetValue(CompletedKey, out var completed) && bool.Parse(completed));
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return new ReceiptState(0, Completed: false);
        }
    }

    public static Task WriteAsync(BlobClient receipt, RenewingBlobLease lease, int attempts, bool completed, string outcome, CancellationToken cancellationToken) =>
        receipt.SetMetadataAsync(
            new Dictionary<string, string>
            {
                [AttemptsKey] = attempts.ToString(CultureInfo.InvariantCulture),
                [CompletedKey] = completed.ToString(CultureInfo.InvariantCulture),
                [OutcomeKey] = outcome,
            },
            new BlobRequestConditions { LeaseId = lease.LeaseId },
            cancellationToken);
}

/// <summary>The state kept in a receipt.</summary>
internal sealed record ReceiptState(int Attempts, bool Completed);
