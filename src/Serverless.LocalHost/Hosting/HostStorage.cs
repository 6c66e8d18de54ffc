using System.Reflection;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;
using Serverless.Storage;

namespace Serverless.LocalHost.Hosting;

/// <summary>
/// The runtime's own state in the <c>AzureWebJobsStorage</c> account, in the container the Functions host uses
/// (<c>azure-webjobs-hosts</c>): blob receipts, timer status, singleton locks, all under the host id.
/// </summary>
internal sealed partial class HostStorage
{
    public const string ContainerName = "azure-webjobs-hosts";

    private readonly Lazy<Task<BlobContainerClient>> _container;

    public HostStorage(StorageClientFactory clients, IOptions<LocalHostOptions> options)
    {
        HostId = options.Value.HostId ?? DefaultHostId(options.Value.FunctionAssemblies.FirstOrDefault() ?? Assembly.GetEntryAssembly());
        _container = new Lazy<Task<BlobContainerClient>>(() => CreateAsync(clients, ContainerName));
    }

    public string HostId { get; }

    public async Task<BlobClient> GetBlobAsync(string path) => (await _container.Value).GetBlobClient(
        $"{path.Replace("{hostId}", HostId, StringComparison.Ordinal)}");

    /// <summary>A container of the host's storage account, created when missing.</summary>
    public static async Task<BlobContainerClient> CreateAsync(StorageClientFactory clients, string name)
    {
        var container = clients.GetBlobServiceClient().GetBlobContainerClient(name);
        await container.CreateIfNotExistsAsync();
        return container;
    }

    /// <summary>The app's name in storage, as the Functions host derives a host id: lowercase, at most 32 characters.</summary>
    private static string DefaultHostId(Assembly? app)
    {
        var name = (app?.GetName().Name ?? "functions").ToLowerInvariant();
        var id = NotAllowed().Replace(name, "-").Trim('-');
        return id.Length == 0 ? "functions" : id[..Math.Min(32, id.Length)].TrimEnd('-');
    }

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotAllowed();
}

/// <summary>
/// A lease on a blob held for the length of a piece of work: acquired for 30 s and renewed every 10 s until disposed,
/// so a host that dies lets go within 30 s and the work can move to another host.
/// </summary>
internal sealed class RenewingBlobLease : IAsyncDisposable
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);

    private readonly BlobLeaseClient _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private RenewingBlobLease(BlobLeaseClient lease)
    {
        _lease = lease;
        _renewal = RenewAsync();
    }

    public string LeaseId => _lease.LeaseId;

    /// <summary>The lease, or null when another holder has it. Creates the blob (empty) when it does not exist.</summary>
    public static async Task<RenewingBlobLease?> TryAcquireAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Exists already: the normal case after the first time.
        }

        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(Duration, cancellationToken: cancellationToken);
            return new RenewingBlobLease(lease);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewal;
        try
        {
            await _lease.ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Lost or expired already: either way nobody holds it for us now.
        }

        _stop.Dispose();
    }

    private async Task RenewAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(RenewEvery, _stop.Token);
                await _lease.RenewAsync(cancellationToken: _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (RequestFailedException)
        {
            // The lease is lost; the work finishes and the next holder may repeat it (at least once).
        }
    }
}
