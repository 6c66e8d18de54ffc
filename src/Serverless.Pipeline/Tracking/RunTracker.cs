using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;

namespace Serverless.Pipeline.Tracking;

/// <summary>Where a run is.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    /// <summary>Started, not finished.</summary>
    Running,

    /// <summary>Finished with metrics.</summary>
    Completed,

    /// <summary>Failed, with the error.</summary>
    Failed,

    /// <summary>Stopped early by a termination policy.</summary>
    Stopped,
}

/// <summary>One training run (a trial, or the training run that holds the trials).</summary>
public sealed record TrackedRun(
    string Experiment,
    string RunId,
    string? ParentRunId,
    RunStatus Status,
    string? Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    string? DatasetSnapshotId,
    string? ArtifactUri,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt)
{
    /// <summary>How long the run took, when it has ended.</summary>
    public TimeSpan? Duration => EndedAt - StartedAt;
}

/// <summary>
/// Records runs in Azure Tables (table <c>runs</c>: partition = experiment, which is the model name; row = run id),
/// and searches them by a metric with ordering and a limit, as MLflow's run search does.
/// </summary>
public sealed class RunTracker(TableServiceClient tables, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = PipelineJson.Options;
    private readonly TableClient _runs = tables.GetTableClient("runs");

    /// <summary>Creates the table if missing.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => _runs.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>Starts a run (or restarts one with the same id, as a retried activity does).</summary>
    public async Task<TrackedRun> StartAsync(string experiment, string runId, string? parentRunId, string? trainer, IReadOnlyDictionary<string, double> parameters, string? datasetSnapshotId, CancellationToken cancellationToken)
    {
        var run = new TrackedRun(experiment, runId, parentRunId, RunStatus.Running, trainer, parameters, new Dictionary<string, double>(), datasetSnapshotId, null, null, time.GetUtcNow(), null);
        await _runs.UpsertEntityAsync(ToEntity(run), TableUpdateMode.Replace, cancellationToken);
        return run;
    }

    /// <summary>Ends a run: completed with its metrics and artifact, failed with its error, or stopped early.</summary>
    public async Task<TrackedRun> EndAsync(string experiment, string runId, RunStatus status, IReadOnlyDictionary<string, double>? metrics, string? artifactUri, string? error, CancellationToken cancellationToken)
    {
        if (status == RunStatus.Running)
        {
            throw new ArgumentException("A run ends Completed, Failed or Stopped.", nameof(status));
        }

        var run = await GetAsync(experiment, runId, cancellationToken)
            ?? throw new ArgumentException($"Experiment '{experiment}' has no run '{runId}'.", nameof(runId));
        var ended = run with { Status = status, Metrics = metrics ?? run.Metrics, ArtifactUri = artifactUri ?? run.ArtifactUri, Error = error, EndedAt = time.GetUtcNow() };
        await _runs.UpdateEntityAsync(ToEntity(ended), ETag.All, TableUpdateMode.Replace, cancellationToken);
        return ended;
    }

    /// <summary>A run, or null.</summary>
    public async Task<TrackedRun?> GetAsync(string experiment, string runId, CancellationToken cancellationToken)
    {
        var row = await _runs.GetEntityIfExistsAsync<TableEntity>(experiment, runId, cancellationToken: cancellationToken);
        return row.HasValue ? FromEntity(row.Value!) : null;
    }

    /// <summary>A run found by its id alone, whatever its experiment, or null.</summary>
    public async Task<TrackedRun?> FindAsync(string runId, CancellationToken cancellationToken)
    {
        await foreach (var row in _runs.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"RowKey eq {runId}"),
            maxPerPage: 1,
            cancellationToken: cancellationToken))
        {
            return FromEntity(row);
        }

        return null;
    }

    /// <summary>
    /// The runs of an experiment that have <paramref name="metric"/>, best first (highest when
    /// <paramref name="descending"/>), at most <paramref name="limit"/>; optionally only the children of a parent run
    /// and only some statuses (completed runs by default).
    /// </summary>
    public async Task<IReadOnlyList<TrackedRun>> SearchAsync(string experiment, string metric, bool descending, int limit, string? parentRunId = null, IReadOnlyCollection<RunStatus>? statuses = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var wanted = statuses ?? [RunStatus.Completed];
        var runs = new List<TrackedRun>();
        await foreach (var row in _runs.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {experiment}"), cancellationToken: cancellationToken))
        {
            var run = FromEntity(row);
            if (wanted.Contains(run.Status) && (parentRunId is null || run.ParentRunId == parentRunId) && run.Metrics.ContainsKey(metric))
            {
                runs.Add(run);
            }
        }

        var ordered = descending ? runs.OrderByDescending(r => r.Metrics[metric]) : runs.OrderBy(r => r.Metrics[metric]);
        return [.. ordered.ThenBy(r => r.RunId, StringComparer.Ordinal).Take(limit)];
    }

    /// <summary>
    /// The runs of <paramref name="experiments"/> (all when null) that meet <paramref name="query"/>, in its order, a page
    /// at a time: the page and the token of the next one (null after the last).
    /// </summary>
    public async Task<(IReadOnlyList<TrackedRun> Runs, string? NextPageToken)> SearchAsync(
        IReadOnlyList<string>? experiments,
        RunQuery query,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var offset = 0;
        if (query.PageToken is { Length: > 0 } token && !int.TryParse(
            token,
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out offset))
        {
            throw new FormatException($"page_token '{token}' is not one this search gave.");
        }

        var filter = experiments is null
            ? null
            : string.Join(" or ", experiments.Select(e => TableClient.CreateQueryFilter($"PartitionKey eq {e}")));
        var runs = new List<TrackedRun>();
        if (experiments is not { Count: 0 })
        {
            await foreach (var row in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                var run = FromEntity(row);
                if (query.Matches(run))
                {
                    runs.Add(run);
                }
            }
        }

        var page = query.Sort(runs).Skip(offset).Take(query.PageSize + 1).ToList();
        return page.Count > query.PageSize
            ? (page[..query.PageSize], (offset + query.PageSize).ToString(System.Globalization.CultureInfo.InvariantCulture))
            : (page, null);
    }

    private static TableEntity ToEntity(TrackedRun run) => new(run.Experiment, run.RunId)
    {
        ["ParentRunId"] = run.ParentRunId,
        ["Status"] = run.Status.ToString(),
        ["Trainer"] = run.Trainer,
        ["Parameters"] = JsonSerializer.Serialize(run.Parameters, Json),
        ["Metrics"] = JsonSerializer.Serialize(run.Metrics, Json),
        ["DatasetSnapshotId"] = run.DatasetSnapshotId,
        ["ArtifactUri"] = run.ArtifactUri,
        ["Error"] = run.Error,
        ["StartedAt"] = run.StartedAt,
        ["EndedAt"] = run.EndedAt,
    };

    private static TrackedRun FromEntity(TableEntity row) => new(
        row.PartitionKey,
        row.RowKey,
        row.GetString("ParentRunId"),
        Enum.Parse<RunStatus>(row.GetString("Status")),
        row.GetString("Trainer"),
        JsonSerializer.Deserialize<Dictionary<string, double>>(row.GetString("Parameters") ?? "{}", Json)!,
        JsonSerializer.Deserialize<Dictionary<string, double>>(row.GetString("Metrics") ?? "{}", Json)!,
        row.GetString("DatasetSnapshotId"),
        row.GetString("ArtifactUri"),
        row.GetString("Error"),
        row.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
        row.GetDateTimeOffset("EndedAt"));
}
