using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.Storage;

namespace Serverless.LocalHost.Blobs;

/// <summary>
/// Watches the containers of blob-triggered functions by listing them (Azurite raises no change events), and offers
/// each new blob version to its function. Versions already finished are remembered in memory; after a restart the
/// receipts in storage tell the same, so nothing runs twice.
/// </summary>
internal sealed class BlobTriggerListener(
    FunctionCatalog catalog,
    BlobTriggerProcessor processor,
    BlobScanSignal signal,
    IOptions<LocalHostOptions> options,
    ILogger<BlobTriggerListener> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.WithTrigger<BlobTriggerAttribute>().Select(f => WatchAsync(f, stoppingToken)));

    private async Task WatchAsync(FunctionDescriptor function, CancellationToken stoppingToken)
    {
        var settings = options.Value.Blobs;
        var pattern = processor.PatternOf(function);
        var container = processor.ContainerOf(function);
        var finished = new ConcurrentDictionary<(string Name, ETag ETag), bool>();
        var inFlight = new ConcurrentDictionary<(string Name, ETag ETag), Task>();
        using var slots = new SemaphoreSlim(settings.MaxDegreeOfParallelism);
        Log.BlobWatching(logger, pattern.Container, function.Name, pattern.ToString(), settings.PollInterval);

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var raised = signal.Next;
                try
                {
                    await container.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                    await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Prefix = pattern.ListPrefix }, stoppingToken))
                    {
                        var key = (blob.Name, blob.Properties.ETag!.Value);
                        if (finished.ContainsKey(key) || inFlight.ContainsKey(key) || pattern.Match(blob.Name) is null)
                        {
                            continue;
                        }

                        await slots.WaitAsync(stoppingToken);
                        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        inFlight[key] = RunAsync(key, registered.Task);
                        registered.SetResult();
                    }
                }
                catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
                {
                    Log.BlobScanFailed(logger, pattern.Container, function.Name, ex.Message);
                }

                await Task.WhenAny(Task.Delay(settings.PollInterval, stoppingToken), raised);
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(inFlight.Values);

        // Waits until its task is in inFlight, so its own removal in 'finally' cannot come first.
        async Task RunAsync((string Name, ETag ETag) key, Task registered)
        {
            await registered;
            try
            {
                var outcome = await processor.ProcessAsync(function, key.Name, key.ETag, stoppingToken);
                if (outcome is BlobOutcome.Completed or BlobOutcome.Poisoned or BlobOutcome.Superseded)
                {
                    finished[key] = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
            {
                Log.BlobScanFailed(logger, pattern.Container, function.Name, ex.Message);
            }
            finally
            {
                inFlight.TryRemove(key, out _);
                slots.Release();
            }
        }
    }
}
