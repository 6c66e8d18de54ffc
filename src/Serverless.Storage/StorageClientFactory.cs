using System.Collections.Concurrent;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace Serverless.Storage;

/// <summary>
/// Creates Azure Storage service clients for a connection named by an app setting, with the rules of the
/// Functions host: <c>Name</c> holds a connection string (<c>UseDevelopmentStorage=true</c> for Azurite), or
/// <c>Name__blobServiceUri</c> / <c>__queueServiceUri</c> / <c>__tableServiceUri</c> (or <c>Name__accountName</c>)
/// with <c>Name__credential</c> and <c>Name__clientId</c> for an identity-based connection. Clients are cached per
/// connection, since they are thread-safe and meant to be reused.
/// </summary>
public sealed class StorageClientFactory(IConfiguration configuration, AzureComponentFactory componentFactory)
{
    /// <summary>The connection the Functions host itself uses; the default for triggers.</summary>
    public const string DefaultConnectionName = "AzureWebJobsStorage";

    private readonly ConcurrentDictionary<string, BlobServiceClient> _blobClients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, QueueServiceClient> _queueClients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, TableServiceClient> _tableClients = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The blob service of the named connection.</summary>
    public BlobServiceClient GetBlobServiceClient(string? connectionName = null) =>
        _blobClients.GetOrAdd(Normalize(connectionName), name => Resolve(
            name, "blob",
            connectionString => new BlobServiceClient(connectionString),
            (uri, credential) => new BlobServiceClient(uri, credential)));

    /// <summary>The queue service of the named connection; messages are Base64, as the Functions queue extension expects.</summary>
    public QueueServiceClient GetQueueServiceClient(string? connectionName = null) =>
        _queueClients.GetOrAdd(Normalize(connectionName), name => Resolve(
            name, "queue",
            connectionString => new QueueServiceClient(connectionString, QueueOptions()),
            (uri, credential) => new QueueServiceClient(uri, credential, QueueOptions())));

    /// <summary>The table service of the named connection.</summary>
    public TableServiceClient GetTableServiceClient(string? connectionName = null) =>
        _tableClients.GetOrAdd(Normalize(connectionName), name => Resolve(
            name, "table",
            connectionString => new TableServiceClient(connectionString),
            (uri, credential) => new TableServiceClient(uri, credential)));

    /// <summary>Whether the named connection is configured at all (as a string or as identity settings).</summary>
    public bool IsConfigured(string? connectionName = null)
    {
        var name = Normalize(connectionName);
        return !string.IsNullOrWhiteSpace(configuration[name])
            || !string.IsNullOrWhiteSpace(configuration.GetConnectionString(name))
            || configuration.GetSection(name).GetChildren().Any();
    }

    private static QueueClientOptions QueueOptions() => new() { MessageEncoding = QueueMessageEncoding.Base64 };

    private static string Normalize(string? connectionName) =>
        string.IsNullOrWhiteSpace(connectionName) ? DefaultConnectionName : connectionName.Trim();

    private T Resolve<T>(string name, string service, Func<string, T> fromConnectionString, Func<Uri, TokenCredential, T> fromIdentity)
    {
        var connectionString = configuration[name] ?? configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                return fromConnectionString(connectionString);
            }
            catch (FormatException ex)
            {
                throw new StorageConnectionException(name, $"The app setting '{name}' is not a valid storage connection string: {ex.Message}");
            }
        }

        var section = configuration.GetSection(name);
        var serviceUri = section[$"{service}ServiceUri"] ?? section["serviceUri"];
        var accountName = section["accountName"];
        if (string.IsNullOrWhiteSpace(serviceUri) && !string.IsNullOrWhiteSpace(accountName))
        {
            serviceUri = $"https://{accountName}.{service}.core.windows.net";
        }

        if (string.IsNullOrWhiteSpace(serviceUri))
        {
            throw new StorageConnectionException(name,
                $"The storage connection '{name}' is not configured: set '{name}' to a connection string, " +
                $"or '{name}__{service}ServiceUri' (with '{name}__credential' = 'managedidentity' and '{name}__clientId') for an identity-based connection.");
        }

        if (!Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri))
        {
            throw new StorageConnectionException(name, $"The app setting '{name}__{service}ServiceUri' is not an absolute URI: '{serviceUri}'.");
        }

        return fromIdentity(uri, componentFactory.CreateTokenCredential(section));
    }
}
