using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Hosting;
using Serverless.Storage;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>A control message: an event for one orchestration instance (a start, a result, a timer, an event, a command).</summary>
internal sealed record ControlMessage(string MessageId, string InstanceId, string? ExecutionId, HistoryEvent Event);

/// <summary>A control message with, when it came from the queue, what deleting it needs (null for one handed over in memory).</summary>
internal sealed record Received(ControlMessage Message, string? QueueMessageId = null, string? PopReceipt = null);

/// <summary>The instance row: what clients query.</summary>
internal sealed record InstanceRecord(
    string InstanceId,
    string Name,
    OrchestrationStatus Status,
    string ExecutionId,
    string? Input,
    string? Output,
    string? CustomStatus,
    Microsoft.DurableTask.TaskFailureDetails? Failure,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string? ParentInstanceId,
    ETag ETag = default)
{
    /// <summary>For a sub-orchestration: the parent's name, execution and the task id the parent waits on.</summary>
    public (string Name, string ExecutionId, int TaskId)? ParentTask { get; init; }
}

/// <summary>
/// The engine's state in the app's storage account, laid out after the Azure Storage provider of the Durable Task
/// Framework, under the task hub name: an instances table, one append blob of history per execution, a control queue
/// for what callers send (starts, events, commands), and a container for payloads over the threshold (about 45 KB).
/// </summary>
internal sealed partial class DurableStore
{
    private const string BlobPointer = "@blob:";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TableClient _instances;
    private readonly QueueClient _control;
    private readonly BlobContainerClient _history;
    private readonly BlobContainerClient _payloads;
    private readonly DurableOptions _options;
    private readonly Lazy<Task> _created;

    public DurableStore(StorageClientFactory clients, IConfiguration configuration, IOptions<DurableOptions> options)
    {
        _options = options.Value;
        TaskHub = ResolveTaskHub(configuration);
        var queuePrefix = TaskHub.ToLowerInvariant();
        _instances = clients.GetTableServiceClient().GetTableClient($"{TaskHub}Instances");
        _control = clients.GetQueueServiceClient().GetQueueClient($"{queuePrefix}-control");
        _history = clients.GetBlobServiceClient().GetBlobContainerClient($"{queuePrefix}-history");
        _payloads = clients.GetBlobServiceClient().GetBlobContainerClient($"{queuePrefix}-largemessages");
        _created = new Lazy<Task>(() => Task.WhenAll(
            _instances.CreateIfNotExistsAsync(),
            _control.CreateIfNotExistsAsync(),
            _history.CreateIfNotExistsAsync(),
            _payloads.CreateIfNotExistsAsync()));
    }

    /// <summary>The task hub: host.json's <c>extensions.durableTask.hubName</c> (settings resolved), else TestHubName as Core Tools uses.</summary>
    public string TaskHub { get; }

    public Task EnsureCreatedAsync() => _created.Value;

    /// <summary>Checks an instance id that comes from outside.</summary>
    public static void ValidateInstanceId(string instanceId)
    {
        if (string.IsNullOrWhiteSpace(instanceId) || instanceId.Length > 256 || !ValidInstanceId().IsMatch(instanceId))
        {
            throw new ArgumentException($"Instance id '{instanceId}' is not valid: 1-256 characters, none of / \\ # ? or control characters.", nameof(instanceId));
        }
    }

    // ---- instances ----

    public async Task<InstanceRecord?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var response = await _instances.GetEntityIfExistsAsync<TableEntity>(instanceId, string.Empty, cancellationToken: cancellationToken);
        return response.HasValue ? await ToRecordAsync(response.Value!, cancellationToken) : null;
    }

    /// <summary>Writes the row; with an ETag, only if nobody changed it since (else 412), with <see cref="ETag.All"/> unconditionally, with default only if new (else 409).</summary>
    public async Task<ETag> PutInstanceAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var entity = new TableEntity(record.InstanceId, string.Empty)
        {
            ["Name"] = record.Name,
            ["RuntimeStatus"] = record.Status.ToString(),
            ["ExecutionId"] = record.ExecutionId,
            ["Input"] = await ExternalizeAsync(record.Input, cancellationToken),
            ["Output"] = await ExternalizeAsync(record.Output, cancellationToken),
            ["CustomStatus"] = await ExternalizeAsync(record.CustomStatus, cancellationToken),
            ["FailureDetails"] = record.Failure is null ? null : JsonSerializer.Serialize(record.Failure, Json),
            ["CreatedAt"] = record.CreatedAt,
            ["LastUpdatedAt"] = record.LastUpdatedAt,
            ["ParentInstanceId"] = record.ParentInstanceId,
            ["ParentName"] = record.ParentTask?.Name,
            ["ParentExecutionId"] = record.ParentTask?.ExecutionId,
            ["ParentTaskId"] = record.ParentTask?.TaskId,
        };
        var response = record.ETag == default ? await _instances.AddEntityAsync(entity, cancellationToken)
            : record.ETag == ETag.All ? await _instances.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken)
            : await _instances.UpdateEntityAsync(entity, record.ETag, TableUpdateMode.Replace, cancellationToken);
        return response.Headers.ETag ?? default;
    }

    public async Task DeleteInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        await _instances.DeleteEntityAsync(instanceId, string.Empty, cancellationToken: cancellationToken);
        await foreach (var blob in _history.GetBlobsAsync(new GetBlobsOptions { Prefix = $"{instanceId}/" }, cancellationToken))
        {
            await _history.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
        }
    }

    public async Task<(IReadOnlyList<InstanceRecord> Records, string? ContinuationToken)> QueryInstancesAsync(
        IReadOnlyCollection<OrchestrationStatus>? statuses, DateTimeOffset? createdFrom, DateTimeOffset? createdTo, string? instanceIdPrefix, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var filters = new List<string>();
        if (statuses is { Count: > 0 })
        {
            filters.Add("(" + string.Join(" or ", statuses.Select(s => TableClient.CreateQueryFilter($"RuntimeStatus eq {s.ToString()}"))) + ")");
        }

        if (createdFrom is { } from)
        {
            filters.Add(TableClient.CreateQueryFilter($"CreatedAt ge {from}"));
        }

        if (createdTo is { } to)
        {
            filters.Add(TableClient.CreateQueryFilter($"CreatedAt le {to}"));
        }

        if (!string.IsNullOrEmpty(instanceIdPrefix))
        {
            filters.Add(TableClient.CreateQueryFilter($"PartitionKey ge {instanceIdPrefix} and PartitionKey lt {instanceIdPrefix + '\uffff'}"));
        }

        var pages = _instances.QueryAsync<TableEntity>(filters.Count == 0 ? null : string.Join(" and ", filters), pageSize, cancellationToken: cancellationToken)
            .AsPages(continuationToken, pageSize);
        await foreach (var page in pages)
        {
            var records = new List<InstanceRecord>();
            foreach (var entity in page.Values)
            {
                records.Add(await ToRecordAsync(entity, cancellationToken));
            }

            return (records, page.ContinuationToken);
        }

        return ([], null);
    }

    // ---- history ----

    /// <summary>The history of one execution and its length in bytes (the append position for the next episode).</summary>
    public async Task<(List<HistoryEvent> Events, long Length)> ReadHistoryAsync(string instanceId, string executionId, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var blob = _history.GetAppendBlobClient($"{instanceId}/{executionId}.jsonl");
        try
        {
            var content = (await blob.DownloadContentAsync(cancellationToken)).Value;
            var events = new List<HistoryEvent>();
            foreach (var line in content.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                events.Add(JsonSerializer.Deserialize<HistoryEvent>(await InternalizeAsync(line, cancellationToken), Json)!);
            }

            return (events, content.Details.ContentLength);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ([], 0);
        }
    }

    /// <summary>
    /// Appends an episode's events as one block, only if the history is still <paramref name="expectedLength"/> long:
    /// a concurrent episode elsewhere makes this fail with 412, and the caller reloads. Returns the new length.
    /// </summary>
    public async Task<long> AppendHistoryAsync(string instanceId, string executionId, long expectedLength, IEnumerable<HistoryEvent> events, CancellationToken cancellationToken)
    {
        var blob = _history.GetAppendBlobClient($"{instanceId}/{executionId}.jsonl");
        if (expectedLength == 0)
        {
            await blob.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        var text = new StringBuilder();
        foreach (var historyEvent in events)
        {
            text.Append(await ExternalizeAsync(JsonSerializer.Serialize(historyEvent, Json), cancellationToken)).Append('\n');
        }

        using var block = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
        var response = await blob.AppendBlockAsync(block, new AppendBlobAppendBlockOptions
        {
            Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = expectedLength },
        }, cancellationToken);
        return expectedLength + block.Length;
    }

    // ---- control queue ----

    /// <summary>Sends a control message, visible after <paramref name="visibilityDelay"/>; <paramref name="hidden"/> keeps it hidden for the visibility timeout, for a caller that hands it over in memory.</summary>
    public async Task<Received> SendControlAsync(ControlMessage message, TimeSpan? visibilityDelay, bool hidden, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var body = await ExternalizeAsync(JsonSerializer.Serialize(message, Json), cancellationToken);
        var delay = hidden ? _options.MessageVisibilityTimeout
            : visibilityDelay is { } d && d > TimeSpan.Zero ? (d > MaxVisibility ? MaxVisibility : d) : (TimeSpan?)null;
        var receipt = (await _control.SendMessageAsync(body, delay, TimeSpan.FromSeconds(-1), cancellationToken)).Value;
        return new Received(message, receipt.MessageId, receipt.PopReceipt);
    }

    public async Task<IReadOnlyList<Received>> ReceiveControlAsync(int maxMessages, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        QueueMessage[] messages = (await _control.ReceiveMessagesAsync(Math.Clamp(maxMessages, 1, 32), _options.MessageVisibilityTimeout, cancellationToken)).Value;
        var result = new List<Received>(messages.Length);
        foreach (var message in messages)
        {
            var body = await InternalizeAsync(message.Body.ToString(), cancellationToken);
            result.Add(new Received(JsonSerializer.Deserialize<ControlMessage>(body, Json)!, message.MessageId, message.PopReceipt));
        }

        return result;
    }

    /// <summary>Deletes a message taken from the queue; one handed over in memory has nothing to delete.</summary>
    public async Task DeleteControlAsync(Received message, CancellationToken cancellationToken)
    {
        if (message.QueueMessageId is null)
        {
            return;
        }

        try
        {
            await _control.DeleteMessageAsync(message.QueueMessageId, message.PopReceipt, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Gone already: nothing left to do.
        }
    }

    /// <summary>Shows a queue message again after <paramref name="visibility"/> (zero: now), for a later try or another host.</summary>
    public async Task ReleaseControlAsync(Received message, TimeSpan visibility)
    {
        if (message.QueueMessageId is null)
        {
            return;
        }

        try
        {
            await _control.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, visibilityTimeout: visibility);
        }
        catch (RequestFailedException)
        {
            // Deleted meanwhile, or its receipt changed: not lost either way.
        }
    }

    private static readonly TimeSpan MaxVisibility = TimeSpan.FromDays(6);

    // ---- payloads ----

    /// <summary>Text over the threshold goes to a blob; a pointer stands for it.</summary>
    private async Task<string?> ExternalizeAsync(string? text, CancellationToken cancellationToken)
    {
        if (text is null || text.Length <= _options.LargePayloadThreshold)
        {
            return text;
        }

        var name = $"{DateTime.UtcNow:yyyyMMdd}/{Guid.NewGuid():N}.json";
        await _payloads.UploadBlobAsync(name, BinaryData.FromString(text), cancellationToken);
        return BlobPointer + name;
    }

    private async Task<string> InternalizeAsync(string text, CancellationToken cancellationToken) =>
        text.StartsWith(BlobPointer, StringComparison.Ordinal)
            ? (await _payloads.GetBlobClient(text[BlobPointer.Length..]).DownloadContentAsync(cancellationToken)).Value.Content.ToString()
            : text;

    private async Task<string?> InternalizeNullableAsync(string? text, CancellationToken cancellationToken) =>
        text is null ? null : await InternalizeAsync(text, cancellationToken);

    private async Task<InstanceRecord> ToRecordAsync(TableEntity entity, CancellationToken cancellationToken) => new(
        entity.PartitionKey,
        entity.GetString("Name"),
        Enum.Parse<OrchestrationStatus>(entity.GetString("RuntimeStatus")),
        entity.GetString("ExecutionId"),
        await InternalizeNullableAsync(entity.GetString("Input"), cancellationToken),
        await InternalizeNullableAsync(entity.GetString("Output"), cancellationToken),
        await InternalizeNullableAsync(entity.GetString("CustomStatus"), cancellationToken),
        entity.GetString("FailureDetails") is { } failure ? JsonSerializer.Deserialize<Microsoft.DurableTask.TaskFailureDetails>(failure, Json) : null,
        entity.GetDateTimeOffset("CreatedAt") ?? entity.Timestamp ?? DateTimeOffset.UtcNow,
        entity.GetDateTimeOffset("LastUpdatedAt") ?? entity.Timestamp ?? DateTimeOffset.UtcNow,
        entity.GetString("ParentInstanceId"),
        entity.ETag)
    {
        ParentTask = entity.GetInt32("ParentTaskId") is { } taskId ? (entity.GetString("ParentName"), entity.GetString("ParentExecutionId"), taskId) : null,
    };

    private static string ResolveTaskHub(IConfiguration configuration)
    {
        var configured = configuration[$"{LocalConfiguration.HostJsonSection}:extensions:durableTask:hubName"];
        var hub = string.IsNullOrWhiteSpace(configured) ? "TestHubName" : AppSettings.Resolve(configuration, configured, "host.json extensions.durableTask.hubName");
        if (!TaskHubName().IsMatch(hub))
        {
            throw new InvalidOperationException($"Task hub name '{hub}' (host.json extensions.durableTask.hubName) must be 3-45 letters and digits, starting with a letter.");
        }

        return hub;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex TaskHubName();

    [GeneratedRegex(@"^[^/\\#?\p{Cc}]+$")]
    private static partial Regex ValidInstanceId();
}
