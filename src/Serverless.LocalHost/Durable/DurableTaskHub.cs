using System.Globalization;
using System.Text.RegularExpressions;
using DurableTask.AzureStorage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;
using Serverless.Storage;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The app's task hub on the Durable Task Framework's Azure Storage provider, the default backend of Durable Functions:
/// its name and limits from host.json (<c>extensions:durableTask</c>), its storage from the provider's connection
/// (<c>AzureWebJobsStorage</c> unless host.json names another), and the local tuning of <see cref="DurableOptions"/>.
/// The service is created once, with the task hub's queues, tables and containers, on first use by a client or worker.
/// </summary>
internal sealed partial class DurableTaskHub
{
    private const string Section = $"{LocalConfiguration.HostJsonSection}:extensions:durableTask";

    private readonly Lazy<Task<AzureStorageOrchestrationService>> _service;

    public DurableTaskHub(
        IConfiguration configuration, IOptions<DurableOptions> options, IOptions<LocalHostOptions> host, ILoggerFactory loggerFactory)
    {
        var durable = configuration.GetSection(Section);
        Name = HubName(configuration, durable["hubName"] ?? "TestHubName");
        ConnectionName = durable["storageProvider:connectionName"]
            ?? durable["storageProvider:connectionStringName"]
            ?? StorageClientFactory.DefaultConnectionName;
        var connectionString = configuration[ConnectionName] ?? configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The local host runs Durable on a storage connection string: set '{ConnectionName}' (UseDevelopmentStorage=true for Azurite).");
        }

        var local = options.Value;
        Settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = Name,
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            LoggerFactory = loggerFactory,
            WorkerId = local.WorkerId ?? DefaultWorkerId(host.Value.Http.Port),
            PartitionCount = local.PartitionCount,
            MaxQueuePollingInterval = local.MaxQueuePollingInterval,
            ControlQueueVisibilityTimeout = local.MessageVisibilityTimeout,
            WorkItemQueueVisibilityTimeout = local.MessageVisibilityTimeout,
            LeaseInterval = local.LeaseInterval,
            LeaseRenewInterval = local.LeaseRenewInterval,
            LeaseAcquireInterval = local.LeaseRenewInterval,

            // Starting an id that is pending, running or suspended is an error, as the Functions host makes it.
            ThrowExceptionOnInvalidDedupeStatus = true,

            // The Functions host's defaults: ten of each per core, unless host.json says otherwise.
            MaxConcurrentTaskActivityWorkItems = Limit(durable, "maxConcurrentActivityFunctions"),
            MaxConcurrentTaskOrchestrationWorkItems = Limit(durable, "maxConcurrentOrchestratorFunctions"),
        };
        _service = new Lazy<Task<AzureStorageOrchestrationService>>(CreateAsync);
    }

    /// <summary>The task hub name (host.json <c>hubName</c>, <c>%Setting%</c> resolved).</summary>
    public string Name { get; }

    /// <summary>The app setting that names the task hub's storage, as status URLs carry it (<c>connection=</c>).</summary>
    public string ConnectionName { get; }

    public AzureStorageOrchestrationServiceSettings Settings { get; }

    /// <summary>The provider, its storage created if missing.</summary>
    public Task<AzureStorageOrchestrationService> GetServiceAsync() => _service.Value;

    private async Task<AzureStorageOrchestrationService> CreateAsync()
    {
        var service = new AzureStorageOrchestrationService(Settings);
        await service.CreateIfNotExistsAsync();
        return service;
    }

    /// <summary>
    /// The machine and the HTTP port: hosts on one machine listen on different ports, so they differ, and a host
    /// restarted on its port is the same worker, which takes its partitions back at once instead of waiting for their
    /// leases to lapse. With a port picked at random (0), the process id.
    /// </summary>
    private static string DefaultWorkerId(int port) =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{(port == 0 ? $"pid{Environment.ProcessId}" : port)}");

    private static string HubName(IConfiguration configuration, string expression)
    {
        var name = AppSettings.Resolve(configuration, expression, "host.json extensions:durableTask:hubName");
        return HubNamePattern().IsMatch(name)
            ? name
            : throw new InvalidOperationException(
                $"host.json extensions:durableTask:hubName ('{expression}') is '{name}': "
                + "a task hub name on Azure Storage is 3-45 letters and digits, starting with a letter.");
    }

    private static int Limit(IConfiguration durable, string key) =>
        durable[key] is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : 10 * Environment.ProcessorCount;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex HubNamePattern();
}
