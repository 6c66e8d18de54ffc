using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.Storage;

namespace Serverless.LocalHost.Blobs;

/// <summary>What became of one blob version offered to a function.</summary>
internal enum BlobOutcome
{
    /// <summary>The function ran and succeeded, now or before (the receipt says so).</summary>
    Completed,

    /// <summary>The function failed; it will be tried again.</summary>
    Failed,

    /// <summary>The attempts ran out; a poison message was written.</summary>
    Poisoned,

    /// <summary>The blob changed or vanished before it was read; its newer version has its own receipt.</summary>
    Superseded,

    /// <summary>Another host holds this blob version right now.</summary>
    Busy,
}

/// <summary>
/// Offers one blob version to one function, exactly once across restarts and hosts: a leased receipt guards the work,
/// the trigger value is read with the ETag as a condition, attempts are counted when they start (so a process that
/// dies mid-invocation uses one up, as the host's dequeue count does), and after the last attempt a poison
/// message goes to <c>webjobs-blobtrigger-poison</c>, as the Functions host does. The blob itself is never changed.
/// </summary>
internal sealed class BlobTriggerProcessor(
    FunctionCatalog catalog,
    FunctionInvoker invoker,
    BlobReceipts receipts,
    StorageClientFactory clients,
    IConfiguration configuration,
    IOptions<LocalHostOptions> options,
    ILogger<BlobTriggerProcessor> logger)
{
    public const string PoisonQueueName = "webjobs-blobtrigger-poison";

    private readonly Dictionary<string, BlobPathPattern> _patterns = catalog.WithTrigger<BlobTriggerAttribute>()
        .ToDictionary(f => f.Name, f => BlobPathPattern.Parse(AppSettings.Resolve(configuration, f.TriggerAs<BlobTriggerAttribute>().BlobPath, f.Name)), StringComparer.OrdinalIgnoreCase);

    public BlobPathPattern PatternOf(FunctionDescriptor function) => _patterns[function.Name];

    public BlobContainerClient ContainerOf(FunctionDescriptor function) =>
        clients.GetBlobServiceClient(function.TriggerAs<BlobTriggerAttribute>().Connection).GetBlobContainerClient(PatternOf(function).Container);

    public async Task<BlobOutcome> ProcessAsync(FunctionDescriptor function, string blobName, ETag eTag, CancellationToken cancellationToken)
    {
        var pattern = PatternOf(function);
        var values = pattern.Match(blobName);
        if (values is null)
        {
            throw new ArgumentException($"Blob '{blobName}' does not match '{pattern}' of function '{function.Name}'.", nameof(blobName));
        }

        var receipt = await receipts.GetReceiptAsync(function.Id, pattern.Container, blobName, eTag);
        if ((await BlobReceipts.ReadAsync(receipt, cancellationToken)).Completed)
        {
            return BlobOutcome.Completed;
        }

        await using var lease = await RenewingBlobLease.TryAcquireAsync(receipt, cancellationToken);
        if (lease is null)
        {
            return BlobOutcome.Busy;
        }

        // Read again under the lease: the previous holder may have finished in between.
        var state = await BlobReceipts.ReadAsync(receipt, cancellationToken);
        if (state.Completed)
        {
            return BlobOutcome.Completed;
        }

        var maxAttempts = options.Value.Blobs.MaxAttempts;
        var blob = ContainerOf(function).GetBlobClient(blobName);
        if (state.Attempts >= maxAttempts)
        {
            // Every attempt was counted and none finished: the process died in each (a file that kills the host).
            return await PoisonAsync(function, pattern.Container, blobName, eTag, receipt, lease, state.Attempts, cancellationToken);
        }

        // The attempt counts from its delivery, as the host's queue dequeue count does, so a crash mid-invocation counts too.
        var attempt = state.Attempts + 1;
        await BlobReceipts.WriteAsync(receipt, lease, attempt, completed: false, "Running", cancellationToken);
        Log.BlobTriggered(logger, pattern.Container, blobName, eTag.ToString(), function.Name, attempt, maxAttempts);

        var bindingData = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            [BlobPathPattern.BlobTriggerKey] = $"{pattern.Container}/{blobName}",
            [BlobPathPattern.UriKey] = blob.Uri.ToString(),
        };
        foreach (var (key, value) in values)
        {
            bindingData[key] = value;
        }

        var conditions = new BlobRequestConditions { IfMatch = eTag };
        try
        {
            var request = new InvocationRequest(
                _ => BindAsync(function.TriggerParameter.ParameterType, blob, conditions, cancellationToken),
                bindingData,
                RetryCount: state.Attempts,
                MaxRetryCount: maxAttempts - 1);
            await invoker.InvokeAsync(function, request, cancellationToken);
            await BlobReceipts.WriteAsync(receipt, lease, attempt, completed: true, "Succeeded", cancellationToken);
            return BlobOutcome.Completed;
        }
        catch (FunctionInvocationException ex) when (ex.InnerException is RequestFailedException { Status: 404 or 412 })
        {
            await BlobReceipts.WriteAsync(receipt, lease, attempt, completed: true, "Superseded", cancellationToken);
            return BlobOutcome.Superseded;
        }
        catch (FunctionInvocationException) when (attempt < maxAttempts)
        {
            await BlobReceipts.WriteAsync(receipt, lease, attempt, completed: false, "Failed", cancellationToken);
            return BlobOutcome.Failed;
        }
        catch (FunctionInvocationException)
        {
            return await PoisonAsync(function, pattern.Container, blobName, eTag, receipt, lease, attempt, cancellationToken);
        }
    }

    private async Task<BlobOutcome> PoisonAsync(
        FunctionDescriptor function, string container, string blobName, ETag eTag, BlobClient receipt, RenewingBlobLease lease, int attempts, CancellationToken cancellationToken)
    {
        await SendToPoisonQueueAsync(function, container, blobName, eTag, cancellationToken);
        await BlobReceipts.WriteAsync(receipt, lease, attempts, completed: true, "Poisoned", cancellationToken);
        Log.BlobPoisoned(logger, container, blobName, eTag.ToString(), function.Name, attempts, PoisonQueueName);
        return BlobOutcome.Poisoned;
    }

    private static async ValueTask<object?> BindAsync(Type type, BlobClient blob, BlobRequestConditions conditions, CancellationToken cancellationToken)
    {
        if (type == typeof(BlobClient) || type == typeof(BlobBaseClient))
        {
            return blob;
        }

        if (type == typeof(BlockBlobClient))
        {
            return blob.GetParentBlobContainerClient().GetBlockBlobClient(blob.Name);
        }

        if (type == typeof(Stream))
        {
            return await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = conditions }, cancellationToken);
        }

        var content = (await blob.DownloadContentAsync(new BlobDownloadOptions { Conditions = conditions }, cancellationToken)).Value.Content;
        return type == typeof(string) ? content.ToString()
            : type == typeof(byte[]) ? content.ToArray()
            : content;
    }

    private async Task SendToPoisonQueueAsync(FunctionDescriptor function, string container, string blobName, ETag eTag, CancellationToken cancellationToken)
    {
        var queue = clients.GetQueueServiceClient(function.TriggerAs<BlobTriggerAttribute>().Connection).GetQueueClient(PoisonQueueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var message = JsonSerializer.Serialize(new
        {
            Type = "BlobTrigger",
            FunctionId = function.Id,
            BlobType = "BlockBlob",
            ContainerName = container,
            BlobName = blobName,
            ETag = eTag.ToString(),
        });
        await queue.SendMessageAsync(message, cancellationToken);
    }
}
