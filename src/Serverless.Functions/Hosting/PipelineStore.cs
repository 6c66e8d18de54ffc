using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Tracking;
using Serverless.Storage;

namespace Serverless.Functions.Hosting;

/// <summary>
/// The pipeline's storage in the app's account (<c>AzureWebJobsStorage</c>): datasets, snapshots, the model registry,
/// run tracking and run outputs (trial models, reports). Containers and tables are created on first use.
/// </summary>
public sealed class PipelineStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _created;

    /// <summary>Builds the clients from the app's storage connection.</summary>
    public PipelineStore(StorageClientFactory clients, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(clients);
        var blobs = clients.GetBlobServiceClient();
        var tables = clients.GetTableServiceClient();
        Datasets = blobs.GetBlobContainerClient(PipelineOptions.DatasetsContainer);
        Snapshots = blobs.GetBlobContainerClient(PipelineOptions.SnapshotsContainer);
        RunOutputs = blobs.GetBlobContainerClient(PipelineOptions.RunsContainer);
        Ingestor = new DatasetIngestor(Snapshots, time);
        Registry = new ModelRegistry(tables, blobs.GetBlobContainerClient(PipelineOptions.ModelsContainer), time);
        Runs = new RunTracker(tables, time);
    }

    /// <summary>Training inputs, uploaded by callers.</summary>
    public BlobContainerClient Datasets { get; }

    /// <summary>Immutable dataset snapshots.</summary>
    public BlobContainerClient Snapshots { get; }

    /// <summary>What runs produce: <c>{runId}/trials/{n}/model.zip</c>, <c>{runId}/model.zip</c>, <c>{runId}/report/</c>.</summary>
    public BlobContainerClient RunOutputs { get; }

    /// <summary>Ingests datasets into snapshots.</summary>
    public DatasetIngestor Ingestor { get; }

    /// <summary>The model registry.</summary>
    public ModelRegistry Registry { get; }

    /// <summary>Run tracking.</summary>
    public RunTracker Runs { get; }

    /// <summary>Creates the containers and tables once per process (after a failure, the next call tries again).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_created)
            {
                await Datasets.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await Snapshots.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await RunOutputs.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await Registry.EnsureCreatedAsync(cancellationToken);
                await Runs.EnsureCreatedAsync(cancellationToken);
                _created = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
