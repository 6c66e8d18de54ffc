using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Runs a function when a blob is created or updated under a path.</summary>
public sealed class BlobTriggerAttribute : TriggerBindingAttribute
{
    /// <summary>Creates the trigger for a path such as <c>container/{name}</c>.</summary>
    public BlobTriggerAttribute(string blobPath)
    {
        BlobPath = blobPath;
    }

    /// <summary>The blob path pattern: a container, then a pattern with <c>{parameters}</c>.</summary>
    public string BlobPath { get; }

    /// <summary>The app setting name (or prefix) of the storage connection; <c>AzureWebJobsStorage</c> when null.</summary>
    public string? Connection { get; set; }

    /// <summary>Where change notifications come from.</summary>
    public BlobTriggerSource Source { get; set; } = BlobTriggerSource.LogsAndContainerScan;
}

/// <summary>The source of blob change notifications.</summary>
public enum BlobTriggerSource
{
    /// <summary>Storage logs and periodic container scans.</summary>
    LogsAndContainerScan,

    /// <summary>Event Grid notifications.</summary>
    EventGrid,
}
